/// Why one value could not be decoded; the row adds the column, its type and
/// the requested Swift type when turning this into a `PostgresError`.
package struct PostgresDecodingFailure: Error, Sendable, CustomStringConvertible {
    package var reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }

    static func unsupported(_ type: PostgresDataType, expected: String) -> PostgresDecodingFailure {
        PostgresDecodingFailure("unsupported column type \(type.name); expected \(expected)")
    }

    static func size(_ count: Int, expected: Int, type: PostgresDataType) -> PostgresDecodingFailure {
        PostgresDecodingFailure("malformed \(type.name) value: \(count) bytes, expected \(expected)")
    }
}
