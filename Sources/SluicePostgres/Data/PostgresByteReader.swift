/// Reads big-endian values from a value's binary representation.
struct PostgresByteReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var remaining: Int { buffer.count - offset }

    mutating func readInteger<T: FixedWidthInteger>(as: T.Type = T.self) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        let value = buffer.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }

    mutating func readSlice(_ length: Int) -> UnsafeRawBufferPointer? {
        guard length >= 0, remaining >= length else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
        offset += length
        return slice
    }
}
