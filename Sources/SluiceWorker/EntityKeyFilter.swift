import SluiceSnapshots

/// A set of entity keys that answers "certainly not here" or "maybe here": a Bloom filter that grows
/// (a scalable Bloom filter, Almeida et al. 2007: a new layer of twice the capacity once the last one is full).
///
/// The worker keeps one of the keys the store may hold for its partitions, so that the first event of a new
/// entity does not wait for a PostgreSQL round trip that would find nothing. A false positive costs that round
/// trip, as without the filter; a false negative cannot happen.
///
/// Each layer has at least ``bitsPerKey`` bits per key of its capacity (rounded up to a power of two) and
/// ``probes`` probes (Kirsch–Mitzenmacher double hashing of one 64-bit hash), about 1 % false positives when
/// full; layers add up, so a filter that grew through several layers answers "maybe" a little more often.
package struct EntityKeyFilter {
    static let bitsPerKey = 10
    static let probes = 7

    private struct Layer {
        var words: [UInt64]
        /// Number of bits − 1 (a power of two minus one).
        let mask: UInt64
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            var bits = 64
            while bits < capacity * EntityKeyFilter.bitsPerKey { bits <<= 1 }
            words = [UInt64](repeating: 0, count: bits / 64)
            mask = UInt64(bits - 1)
        }

        mutating func insert(_ hash: (UInt64, UInt64)) {
            var h = hash.0
            for _ in 0..<EntityKeyFilter.probes {
                let bit = h & mask
                words[Int(bit >> 6)] |= 1 << (bit & 63)
                h &+= hash.1
            }
            count += 1
        }

        func contains(_ hash: (UInt64, UInt64)) -> Bool {
            var h = hash.0
            for _ in 0..<EntityKeyFilter.probes {
                let bit = h & mask
                if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
                h &+= hash.1
            }
            return true
        }
    }

    private var layers: [Layer]

    /// - Parameter capacity: keys the first layer holds before the filter grows.
    package init(capacity: Int = 65_536) {
        layers = [Layer(capacity: max(capacity, 1_024))]
    }

    /// Keys inserted (a key inserted twice counts twice).
    package var count: Int { layers.reduce(0) { $0 + $1.count } }

    /// Bytes held by the bit arrays.
    package var memoryBytes: Int { layers.reduce(0) { $0 + $1.words.count * 8 } }

    package mutating func insert(_ key: String) {
        let hash = Self.hash(key)
        if layers[layers.count - 1].count >= layers[layers.count - 1].capacity {
            layers.append(Layer(capacity: layers[layers.count - 1].capacity * 2))
        }
        layers[layers.count - 1].insert(hash)
    }

    /// False only when `key` was never inserted.
    package func mayContain(_ key: String) -> Bool {
        let hash = Self.hash(key)
        return layers.contains { $0.contains(hash) }
    }

    /// Two 64-bit hashes of the key's UTF-8 bytes; the second is odd, so its multiples visit every bit of a
    /// power-of-two array.
    private static func hash(_ key: String) -> (UInt64, UInt64) {
        var key = key
        let base = key.withUTF8 { HoldoutSplit.fnv1a64(UnsafeRawBufferPointer($0)) }
        let first = HoldoutSplit.fmix64(base)
        return (first, HoldoutSplit.fmix64(first ^ 0x9e37_79b9_7f4a_7c15) | 1)
    }
}
