/// A `jsonb` value carried as raw UTF-8 JSON text; this layer does not parse it.
/// Binary `jsonb` is a version byte (1) followed by the text.
package struct PostgresJSONB: Hashable, Sendable, CustomStringConvertible {
    /// The JSON text as UTF-8 bytes.
    package var bytes: [UInt8]

    package init(bytes: [UInt8]) { self.bytes = bytes }
    package init(_ text: String) { self.bytes = Array(text.utf8) }

    /// The JSON text.
    package var text: String { String(decoding: bytes, as: UTF8.self) }
    package var description: String { text }
}

extension PostgresJSONB: PostgresEncodable {
    package static var postgresType: PostgresDataType { .jsonb }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws {
        buffer.writeInteger(UInt8(1))
        buffer.writeBytes(bytes)
    }
}

extension PostgresJSONB: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> PostgresJSONB {
        switch type {
        case .jsonb:
            guard let version = bytes.first else { throw PostgresDecodingFailure("malformed jsonb value: empty") }
            guard version == 1 else { throw PostgresDecodingFailure("unsupported jsonb binary version \(version); expected 1") }
            return PostgresJSONB(bytes: Array(bytes.dropFirst()))
        case .json, .text:
            return PostgresJSONB(bytes: Array(bytes))
        default:
            throw PostgresDecodingFailure.unsupported(type, expected: "jsonb or json")
        }
    }
}
