/// Finds a feature's column from the raw UTF-8 bytes of a JSON member name, without building a `String`.
///
/// An open-addressing table hashed with FNV-1a; names are compared byte for byte. Rows of one selection nearly
/// always list their features in the same order, so callers first try the column that held the same position
/// in the previous row (`matches`), then look up.
struct FeatureKeyIndex {
    private let storage: [UInt8]
    /// `offsets[c] ..< offsets[c + 1]` are the bytes of name `c`.
    private let offsets: [Int]
    /// Column + 1 per slot; 0 is empty.
    private let slots: [Int32]
    private let mask: Int

    init(names: [String]) {
        var storage: [UInt8] = []
        var offsets = [0]
        for name in names {
            storage.append(contentsOf: name.utf8)
            offsets.append(storage.count)
        }
        var size = 16
        while size < names.count * 2 { size *= 2 }
        var slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        storage.withUnsafeBytes { bytes in
            for column in names.indices {
                let name = UnsafeRawBufferPointer(rebasing: bytes[offsets[column]..<offsets[column + 1]])
                var slot = Int(truncatingIfNeeded: HoldoutSplit.fnv1a64(name)) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(column + 1)
            }
        }
        self.storage = storage
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    /// The number of names.
    var count: Int { offsets.count - 1 }

    /// True when `key` is the name of `column`.
    @inline(__always)
    func matches(_ column: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = offsets[column]
        let length = offsets[column + 1] - start
        guard length == key.count else { return false }
        return storage.withUnsafeBytes { bytes in
            // Names are short: compare eight bytes at a time, then the tail, without a call to memcmp.
            var index = 0
            while index + 8 <= length {
                guard bytes.loadUnaligned(fromByteOffset: start + index, as: UInt64.self)
                    == key.loadUnaligned(fromByteOffset: index, as: UInt64.self) else { return false }
                index += 8
            }
            while index < length {
                guard bytes[start + index] == key[index] else { return false }
                index += 1
            }
            return true
        }
    }

    /// The column named `key`, or nil.
    @inline(__always)
    func column(of key: UnsafeRawBufferPointer) -> Int? {
        var slot = Int(truncatingIfNeeded: HoldoutSplit.fnv1a64(key)) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            if matches(entry - 1, key) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }
}
