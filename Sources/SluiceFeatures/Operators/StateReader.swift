/// Reads what `StateWriter` wrote, with bounds checks that throw `EntityStateError`.
struct StateReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var isAtEnd: Bool { offset == buffer.count }

    func corrupt(_ detail: String) -> EntityStateError {
        EntityStateError(reason: .corrupt, message: "entity state is corrupt at byte \(offset) of \(buffer.count): \(detail)")
    }

    @inline(__always) mutating func byte() throws(EntityStateError) -> UInt8 {
        guard offset < buffer.count else { throw corrupt("unexpected end of data") }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func varint() throws(EntityStateError) -> UInt64 {
        // Fast path: a one- or two-byte varint (counts, small deltas) without per-byte bounds checks.
        if offset + 2 <= buffer.count {
            let b0 = buffer[offset]
            if b0 < 0x80 {
                offset += 1
                return UInt64(b0)
            }
            let b1 = buffer[offset + 1]
            if b1 < 0x80 {
                offset += 2
                return UInt64(b0 & 0x7F) | UInt64(b1) << 7
            }
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw corrupt("varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw corrupt("varint longer than 10 bytes") }
        }
    }

    mutating func signed() throws(EntityStateError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func count(limit: Int) throws(EntityStateError) -> Int {
        let v = try varint()
        guard v <= UInt64(limit) else { throw corrupt("count \(v) exceeds \(limit)") }
        return Int(v)
    }

    mutating func uint16() throws(EntityStateError) -> UInt16 {
        UInt16(try byte()) | UInt16(try byte()) << 8
    }

    mutating func uint64() throws(EntityStateError) -> UInt64 {
        guard offset + 8 <= buffer.count else { throw corrupt("unexpected end of data") }
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func double() throws(EntityStateError) -> Double { Double(bitPattern: try uint64()) }

    mutating func fieldValue() throws(EntityStateError) -> FieldValue {
        switch try byte() {
        case 0: return .null
        case 1: return .double(try double())
        case 2: return .int(try signed())
        case 3:
            let length = try varint()
            guard length <= UInt64(buffer.count - offset) else { throw corrupt("string of \(length) bytes exceeds the remaining data") }
            let n = Int(length)
            let s = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + n]), as: UTF8.self)
            offset += n
            return .string(s)
        case 4: return .bool(false)
        case 5: return .bool(true)
        case let tag: throw corrupt("unknown value tag \(tag)")
        }
    }
}
