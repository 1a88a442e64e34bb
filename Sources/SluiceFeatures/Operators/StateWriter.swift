/// Appends little-endian primitives and LEB128 varints to a byte buffer.
struct StateWriter {
    var bytes: [UInt8]

    @inline(__always) mutating func byte(_ b: UInt8) { bytes.append(b) }

    @inline(__always) mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Zig-zag encoded signed varint.
    @inline(__always) mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) mutating func uint16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    @inline(__always) mutating func uint64(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }

    /// The exact bit pattern, so restored doubles are bit-identical.
    @inline(__always) mutating func double(_ d: Double) { uint64(d.bitPattern) }

    mutating func fieldValue(_ value: FieldValue) {
        switch value {
        case .null: byte(0)
        case .double(let d): byte(1); double(d)
        case .int(let i): byte(2); signed(i)
        case .string(let s):
            byte(3)
            let utf8 = s.utf8
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        case .bool(let b): byte(b ? 5 : 4)
        }
    }
}
