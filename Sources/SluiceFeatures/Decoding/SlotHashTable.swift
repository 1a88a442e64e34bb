/// A tiny perfect hash from a member name's (length, first byte, last byte) to the index of the
/// configured name it may equal; the caller confirms with a byte comparison.
///
/// Built once per decoder by trying multipliers and table sizes until the configured names land in
/// distinct buckets. When two configured names share length, first and last byte no such table
/// exists; then `lookup` answers `SlotHashTable.scanAll` and the caller compares against every name.
struct SlotHashTable: Sendable {
    /// Returned by `lookup` when the table is not perfect: compare against every configured name.
    static let scanAll = -2

    private var buckets: [Int16]
    private var multiplier: UInt32 = 0
    private var shift: UInt32 = 0
    private var isPerfect = false

    init(names: [[UInt8]]) {
        buckets = []
        let keys = names.map { (UInt32($0.count), $0[0], $0[$0.count - 1]) }
        let distinct = Set(keys.map { $0.0 << 16 | UInt32($0.1) << 8 | UInt32($0.2) })
        guard distinct.count == keys.count, keys.count < Int(Int16.max) else { return }
        var bits: UInt32 = 4
        while (1 << bits) < 4 * keys.count { bits += 1 }
        var candidate: UInt32 = 0x9E37_79B1
        for _ in 0..<4096 {
            var table = [Int16](repeating: -1, count: 1 << Int(bits))
            var ok = true
            for (i, key) in keys.enumerated() {
                let h = Int(Self.hash(key.0, key.1, key.2, candidate) >> (32 - bits))
                if table[h] >= 0 { ok = false; break }
                table[h] = Int16(i)
            }
            if ok {
                buckets = table
                multiplier = candidate
                shift = 32 - bits
                isPerfect = true
                return
            }
            candidate = candidate &* 0x0101_0193 &+ 0x7F4A_7C15 | 1
            if bits < 16, candidate & 0xFF == 0x15 { bits += 1 }
        }
    }

    @inline(__always)
    private static func hash(_ length: UInt32, _ first: UInt8, _ last: UInt8, _ multiplier: UInt32) -> UInt32 {
        (length << 16 | UInt32(first) << 8 | UInt32(last)) &* multiplier
    }

    /// The only configured name index the key can match, -1 when none, or `scanAll`.
    @inline(__always)
    func lookup(length: Int, first: UInt8, last: UInt8) -> Int {
        guard isPerfect else { return Self.scanAll }
        let h = Self.hash(UInt32(truncatingIfNeeded: length), first, last, multiplier) >> shift
        return buckets.withUnsafeBufferPointer { Int($0[Int(h)]) }
    }
}
