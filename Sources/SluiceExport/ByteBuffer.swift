/// A growable, manually managed byte buffer used on the writers' hot paths.
///
/// `[UInt8]` would do, but appending a fixed-width value to an array goes
/// through generic sequence code and uniqueness checks; this buffer stores
/// little-endian values straight into raw memory. It is non-copyable so the
/// memory has exactly one owner and is freed in `deinit`.
struct ByteBuffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count: Int = 0
    private(set) var capacity: Int

    init(capacity: Int = 4096) {
        let capacity = max(capacity, 64)
        self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        self.capacity = capacity
    }

    deinit {
        base.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// The written bytes; valid until the next mutation.
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: count)
    }

    /// Makes room for at least `additional` more bytes.
    @inline(__always)
    mutating func reserve(_ additional: Int) {
        if count + additional > capacity {
            grow(to: count + additional)
        }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Forgets the content but keeps the memory. Shrinks the memory when it
    /// grew far above `keepAtMost` so one huge page does not pin memory forever.
    mutating func removeAll(keepAtMost: Int = Int.max) {
        count = 0
        if capacity > keepAtMost {
            base.deallocate()
            capacity = max(keepAtMost, 64)
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends a fixed-width integer in little-endian byte order.
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserve(size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += size
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let length = bytes.count
        reserve(length)
        let destination = base + count
        if length >= 8 && length <= 16 {
            // Most values (ids, numbers as text) are this short: two overlapping word copies beat a memcpy call.
            destination.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (destination + length - 8).storeBytes(of: (source + length - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else {
            destination.copyMemory(from: source, byteCount: length)
        }
        count += length
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Appends `value` as an unsigned LEB128 varint.
    mutating func appendVarint(_ value: UInt64) {
        reserve(10)
        var value = value
        while value >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: value) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            value >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Overwrites the byte at `offset`, which must already be written.
    mutating func setByte(_ byte: UInt8, at offset: Int) {
        precondition(offset < count)
        base.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
    }

    /// Reads the byte at `offset`.
    func byte(at offset: Int) -> UInt8 {
        base.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// Copies the content into an array (tests and small metadata only).
    func toArray() -> [UInt8] {
        Array(bytes)
    }
}
