/// Finds a feature's column from the raw UTF-8 bytes of a JSON member name, without building a `String`.
///
/// An open-addressing table hashed with FNV-1a; names are compared byte for byte. Rows of one selection nearly
/// always list their features in the same order, so callers first try the column that held the same position
/// in the previous row (`matches`), then look up. The tables live in memory this object allocates once, so the
/// per-member calls touch no reference-counted storage.
final class FeatureKeyIndex {
    /// The names' bytes, back to back, plus 8 bytes of padding.
    private let storage: UnsafeMutableRawPointer
    /// `offsets[c] ..< offsets[c + 1]` are the bytes of name `c`.
    private let offsets: UnsafeMutablePointer<Int>
    /// Column + 1 per slot; 0 is empty.
    private let slots: UnsafeMutablePointer<Int32>
    private let mask: Int
    /// Per column: the name has no quote or backslash, so its JSON spelling is its bytes.
    private let plain: UnsafeMutablePointer<Bool>
    /// The number of names.
    let count: Int

    init(names: [String]) {
        let total = names.reduce(0) { $0 + $1.utf8.count }
        storage = .allocate(byteCount: total + 8, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: total + 8)
        offsets = .allocate(capacity: names.count + 1)
        var position = 0
        offsets[0] = 0
        for (index, name) in names.enumerated() {
            for byte in name.utf8 {
                storage.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
                position += 1
            }
            offsets[index + 1] = position
        }
        var size = 16
        while size < names.count * 2 { size *= 2 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: 0, count: size)
        mask = size - 1
        count = names.count
        plain = .allocate(capacity: max(names.count, 1))
        for (index, name) in names.enumerated() {
            (plain + index).initialize(to: !name.utf8.contains(UInt8(ascii: "\"")) && !name.utf8.contains(UInt8(ascii: "\\")))
        }
        for column in names.indices {
            let name = UnsafeRawBufferPointer(start: storage + offsets[column], count: offsets[column + 1] - offsets[column])
            var slot = Int(truncatingIfNeeded: HoldoutSplit.fnv1a64(name)) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(column + 1)
        }
    }

    deinit {
        storage.deallocate()
        offsets.deallocate()
        slots.deallocate()
        plain.deallocate()
    }

    /// The bytes of `column`'s name when it can be matched against raw JSON (no quote, no backslash), else nil.
    @inline(__always)
    func plainName(_ column: Int) -> UnsafeRawBufferPointer? {
        guard plain[column] else { return nil }
        return UnsafeRawBufferPointer(start: storage + offsets[column], count: offsets[column + 1] - offsets[column])
    }

    /// True when `key` is the name of `column`.
    @inline(__always)
    func matches(_ column: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = offsets[column]
        let length = offsets[column + 1] - start
        guard length == key.count else { return false }
        // Names are short: compare eight bytes at a time, then the tail, without a call to memcmp.
        let name = storage + start
        var index = 0
        while index + 8 <= length {
            guard name.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                == key.loadUnaligned(fromByteOffset: index, as: UInt64.self) else { return false }
            index += 8
        }
        while index < length {
            guard name.load(fromByteOffset: index, as: UInt8.self) == key[index] else { return false }
            index += 1
        }
        return true
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
