/// A type that can be an element of a one-dimensional PostgreSQL array
/// (`[Double]` ↔ `float8[]`, `[Int64]` ↔ `int8[]`, `[String]` ↔ `text[]`, ...).
/// `Optional` elements map to NULL elements; decoding a NULL element into a
/// non-optional element type fails with a message pointing at `[T?]`.
///
/// `[UInt8]` is special: it is `bytea`, not an array of bytes. `UInt8`
/// implements this by overriding `encodeArray` / `decodeArray`.
package protocol PostgresArrayElement: Sendable {
    /// OID of the element type.
    static var elementType: PostgresDataType { get }
    /// OID of the one-dimensional array type.
    static var arrayType: PostgresDataType { get }
    /// Writes one element with its length prefix (-1 for NULL).
    static func encodeElement(_ element: Self, into buffer: inout PostgresEncodingBuffer) throws
    /// Decodes one element; `bytes` is nil for a NULL element.
    static func decodeElement(_ bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Self
    /// Writes a whole array value; the default writes the binary array format.
    static func encodeArray(_ array: [Self], into buffer: inout PostgresEncodingBuffer) throws
    /// Decodes a whole array value; the default reads the binary array format.
    static func decodeArray(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [Self]
}

extension PostgresArrayElement {
    package static func encodeArray(_ array: [Self], into buffer: inout PostgresEncodingBuffer) throws {
        // No NULL elements (Optional overrides).
        try buffer.writeArrayHeader(elementType: elementType, count: array.count)
        for element in array { try encodeElement(element, into: &buffer) }
    }

    package static func decodeArray(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [Self] {
        guard type == arrayType || (type == .varcharArray && arrayType == .textArray) else {
            throw PostgresDecodingFailure.unsupported(type, expected: arrayType.name)
        }
        var reader = PostgresByteReader(bytes)
        guard let dimensions = reader.readInteger(as: Int32.self),
              let _ = reader.readInteger(as: Int32.self),
              let elementOID = reader.readInteger(as: UInt32.self) else {
            throw PostgresDecodingFailure("malformed \(type.name) value: truncated header")
        }
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PostgresDecodingFailure("\(dimensions)-dimensional array; only one-dimensional arrays decode into a Swift array")
        }
        guard let count = reader.readInteger(as: Int32.self), count >= 0,
              let _ = reader.readInteger(as: Int32.self) else {
            throw PostgresDecodingFailure("malformed \(type.name) value: truncated dimension")
        }
        let element = PostgresDataType(elementOID)
        var result: [Self] = []
        result.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let length = reader.readInteger(as: Int32.self) else {
                throw PostgresDecodingFailure("malformed \(type.name) value: truncated at element \(index)")
            }
            if length < 0 {
                do { result.append(try decodeElement(nil, type: element)) } catch let failure as PostgresDecodingFailure {
                    throw PostgresDecodingFailure("element \(index): \(failure.reason)")
                }
                continue
            }
            guard let slice = reader.readSlice(Int(length)) else {
                throw PostgresDecodingFailure("malformed \(type.name) value: element \(index) overruns the value")
            }
            do { result.append(try decodeElement(slice, type: element)) } catch let failure as PostgresDecodingFailure {
                throw PostgresDecodingFailure("element \(index): \(failure.reason)")
            }
        }
        return result
    }
}

extension PostgresArrayElement where Self: PostgresEncodable & PostgresDecodable {
    package static func encodeElement(_ element: Self, into buffer: inout PostgresEncodingBuffer) throws {
        try buffer.writeLengthPrefixed(element)
    }
    package static func decodeElement(_ bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Self {
        guard let bytes else {
            throw PostgresDecodingFailure("NULL array element; decode [\(Self.self)?] to accept NULL elements")
        }
        return try decode(from: bytes, type: type)
    }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    package static var elementType: PostgresDataType { Wrapped.elementType }
    package static var arrayType: PostgresDataType { Wrapped.arrayType == .bytea ? .byteaArray : Wrapped.arrayType }
    package static func encodeElement(_ element: Wrapped?, into buffer: inout PostgresEncodingBuffer) throws {
        if let element {
            try Wrapped.encodeElement(element, into: &buffer)
        } else {
            buffer.writeInteger(Int32(-1))
        }
    }
    package static func decodeElement(_ bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Wrapped? {
        guard let bytes else { return nil }
        return try Wrapped.decodeElement(bytes, type: type)
    }
    package static func encodeArray(_ array: [Wrapped?], into buffer: inout PostgresEncodingBuffer) throws {
        guard Wrapped.arrayType != .bytea else {
            throw PostgresError(code: .encoding, message: "[UInt8?] has no PostgreSQL representation; use [UInt8] for bytea")
        }
        try buffer.writeArrayHeader(elementType: elementType, count: array.count, hasNulls: array.contains(where: { $0 == nil }))
        for element in array { try encodeElement(element, into: &buffer) }
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    package static var postgresType: PostgresDataType { Element.arrayType }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws {
        try Element.encodeArray(self, into: &buffer)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [Element] {
        try Element.decodeArray(from: bytes, type: type)
    }
}

extension UInt8: PostgresArrayElement {
    package static var elementType: PostgresDataType { .char }
    /// `[UInt8]` is `bytea`.
    package static var arrayType: PostgresDataType { .bytea }
    package static func encodeElement(_ element: UInt8, into buffer: inout PostgresEncodingBuffer) throws {
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(element)
    }
    package static func decodeElement(_ bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> UInt8 {
        guard let bytes, bytes.count == 1 else { throw PostgresDecodingFailure("expected one byte") }
        return bytes[0]
    }
    package static func encodeArray(_ array: [UInt8], into buffer: inout PostgresEncodingBuffer) throws {
        buffer.writeBytes(array)
    }
    package static func decodeArray(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [UInt8] {
        guard type == .bytea else { throw PostgresDecodingFailure.unsupported(type, expected: "bytea") }
        return Array(bytes)
    }
}

extension Bool: PostgresArrayElement {
    package static var elementType: PostgresDataType { .bool }
    package static var arrayType: PostgresDataType { .boolArray }
}

extension Int16: PostgresArrayElement {
    package static var elementType: PostgresDataType { .int2 }
    package static var arrayType: PostgresDataType { .int2Array }
}

extension Int32: PostgresArrayElement {
    package static var elementType: PostgresDataType { .int4 }
    package static var arrayType: PostgresDataType { .int4Array }
}

extension Int64: PostgresArrayElement {
    package static var elementType: PostgresDataType { .int8 }
    package static var arrayType: PostgresDataType { .int8Array }
}

extension Int: PostgresArrayElement {
    package static var elementType: PostgresDataType { .int8 }
    package static var arrayType: PostgresDataType { .int8Array }
}

extension Float: PostgresArrayElement {
    package static var elementType: PostgresDataType { .float4 }
    package static var arrayType: PostgresDataType { .float4Array }
}

extension Double: PostgresArrayElement {
    package static var elementType: PostgresDataType { .float8 }
    package static var arrayType: PostgresDataType { .float8Array }
}

extension String: PostgresArrayElement {
    package static var elementType: PostgresDataType { .text }
    package static var arrayType: PostgresDataType { .textArray }
}

extension PostgresTimestamp: PostgresArrayElement {
    package static var elementType: PostgresDataType { .timestamptz }
    package static var arrayType: PostgresDataType { .timestamptzArray }
}

extension PostgresJSONB: PostgresArrayElement {
    package static var elementType: PostgresDataType { .jsonb }
    package static var arrayType: PostgresDataType { .jsonbArray }
}
