/// A Swift type a column value can be decoded into from the binary wire format.
package protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value whose column has type `type`.
    /// - Throws: `PostgresDecodingFailure` when the type is not supported or the bytes are malformed.
    static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Self
    /// The value for SQL NULL. The default throws; `Optional` returns nil.
    static func decodeNull() throws -> Self
}

extension PostgresDecodable {
    package static func decodeNull() throws -> Self {
        throw PostgresDecodingFailure("the value is NULL; decode \(Self.self)? to accept NULL")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Wrapped? {
        try Wrapped.decode(from: bytes, type: type)
    }
    package static func decodeNull() throws -> Wrapped? { nil }
}

extension Bool: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Bool {
        guard type == .bool else { throw PostgresDecodingFailure.unsupported(type, expected: "bool") }
        guard bytes.count == 1 else { throw PostgresDecodingFailure.size(bytes.count, expected: 1, type: type) }
        return bytes[0] != 0
    }
}

/// Reads int2/int4/int8 and narrows with a range check.
private func decodeInteger<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, type: PostgresDataType, as: T.Type) throws -> T {
    var reader = PostgresByteReader(bytes)
    let wide: Int64
    switch type {
    case .int2:
        guard bytes.count == 2, let v = reader.readInteger(as: Int16.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 2, type: type) }
        wide = Int64(v)
    case .int4:
        guard bytes.count == 4, let v = reader.readInteger(as: Int32.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 4, type: type) }
        wide = Int64(v)
    case .int8:
        guard bytes.count == 8, let v = reader.readInteger(as: Int64.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 8, type: type) }
        wide = v
    case .oid:
        guard bytes.count == 4, let v = reader.readInteger(as: UInt32.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 4, type: type) }
        wide = Int64(v)
    default:
        throw PostgresDecodingFailure.unsupported(type, expected: "int2, int4 or int8")
    }
    guard let value = T(exactly: wide) else {
        throw PostgresDecodingFailure("value \(wide) is out of range for \(T.self) (\(T.min)...\(T.max))")
    }
    return value
}

extension Int16: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Int16 {
        try decodeInteger(bytes, type: type, as: Int16.self)
    }
}

extension Int32: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Int32 {
        try decodeInteger(bytes, type: type, as: Int32.self)
    }
}

extension Int64: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Int64 {
        try decodeInteger(bytes, type: type, as: Int64.self)
    }
}

extension Int: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Int {
        try decodeInteger(bytes, type: type, as: Int.self)
    }
}

extension Float: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Float {
        guard type == .float4 else { throw PostgresDecodingFailure.unsupported(type, expected: "float4 (decode float8 as Double)") }
        var reader = PostgresByteReader(bytes)
        guard bytes.count == 4, let bits = reader.readInteger(as: UInt32.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 4, type: type) }
        return Float(bitPattern: bits)
    }
}

extension Double: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> Double {
        var reader = PostgresByteReader(bytes)
        switch type {
        case .float8:
            guard bytes.count == 8, let bits = reader.readInteger(as: UInt64.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 8, type: type) }
            return Double(bitPattern: bits)
        case .float4:
            guard bytes.count == 4, let bits = reader.readInteger(as: UInt32.self) else { throw PostgresDecodingFailure.size(bytes.count, expected: 4, type: type) }
            return Double(Float(bitPattern: bits))
        default:
            throw PostgresDecodingFailure.unsupported(type, expected: "float8 or float4")
        }
    }
}

extension String: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> String {
        switch type {
        case .text, .varchar, .name, .bpchar, .unknown, .json:
            return String(decoding: bytes, as: UTF8.self)
        default:
            throw PostgresDecodingFailure.unsupported(type, expected: "text, varchar, name, bpchar or json")
        }
    }
}
