/// A `bytea` value usable as an array element (`[PostgresBytea]` ↔ `bytea[]`), for batched statements such as
/// `INSERT … SELECT FROM unnest($1::bytea[])`. A plain `[UInt8]` is already `bytea` on its own.
package struct PostgresBytea: Hashable, Sendable {
    package var bytes: [UInt8]

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }
}

extension PostgresBytea: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    package static var postgresType: PostgresDataType { .bytea }
    package static var elementType: PostgresDataType { .bytea }
    package static var arrayType: PostgresDataType { .byteaArray }

    package func encode(into buffer: inout PostgresEncodingBuffer) throws {
        buffer.writeBytes(bytes)
    }

    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> PostgresBytea {
        guard type == .bytea else { throw PostgresDecodingFailure.unsupported(type, expected: "bytea") }
        return PostgresBytea(Array(bytes))
    }
}
