/// A Swift value that can be sent to PostgreSQL as a parameter or COPY field
/// in the binary wire format.
package protocol PostgresEncodable: Sendable {
    /// The PostgreSQL type the encoding is for.
    static var postgresType: PostgresDataType { get }
    /// Appends the binary representation (without length prefix).
    /// - Throws: `PostgresError` with code `.encoding` for values that have none.
    func encode(into buffer: inout PostgresEncodingBuffer) throws
}

extension Bool: PostgresEncodable {
    package static var postgresType: PostgresDataType { .bool }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws {
        buffer.writeInteger(UInt8(self ? 1 : 0))
    }
}

extension Int16: PostgresEncodable {
    package static var postgresType: PostgresDataType { .int2 }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeInteger(self) }
}

extension Int32: PostgresEncodable {
    package static var postgresType: PostgresDataType { .int4 }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeInteger(self) }
}

extension Int64: PostgresEncodable {
    package static var postgresType: PostgresDataType { .int8 }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeInteger(self) }
}

extension Int: PostgresEncodable {
    package static var postgresType: PostgresDataType { .int8 }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeInteger(Int64(self)) }
}

extension Float: PostgresEncodable {
    package static var postgresType: PostgresDataType { .float4 }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeInteger(bitPattern) }
}

extension Double: PostgresEncodable {
    package static var postgresType: PostgresDataType { .float8 }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeInteger(bitPattern) }
}

extension String: PostgresEncodable {
    package static var postgresType: PostgresDataType { .text }
    /// UTF-8 bytes. PostgreSQL rejects NUL (U+0000) in text with SQLSTATE 22021.
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeString(self) }
}

extension Substring: PostgresEncodable {
    package static var postgresType: PostgresDataType { .text }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws { buffer.writeString(String(self)) }
}
