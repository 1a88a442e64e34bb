/// Where the state serializers write: little-endian primitives and LEB128 varints over `byte`.
protocol StateSink {
    mutating func byte(_ b: UInt8)
    /// Appends raw bytes.
    mutating func append(_ raw: UnsafeRawBufferPointer)
}

extension StateSink {
    @inline(__always) mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        byte(UInt8(truncatingIfNeeded: v))
    }

    /// Zig-zag encoded signed varint.
    @inline(__always) mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) mutating func uint16(_ v: UInt16) {
        byte(UInt8(truncatingIfNeeded: v))
        byte(UInt8(truncatingIfNeeded: v >> 8))
    }

    @inline(__always) mutating func uint64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { append($0) }
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
            var s = s
            s.withUTF8 { utf8 in
                varint(UInt64(utf8.count))
                append(UnsafeRawBufferPointer(utf8))
            }
        case .bool(let b): byte(b ? 5 : 4)
        }
    }
}
