/// A `timestamptz` value: microseconds since the Unix epoch (UTC), plus
/// PostgreSQL's `infinity` and `-infinity`. Date-free so hot paths need no
/// Foundation; see `PostgresTimestamp+Foundation.swift` for `Date`.
package struct PostgresTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01 00:00:00 UTC; `Int64.max` / `Int64.min` mean ±infinity.
    package var microsecondsSinceUnixEpoch: Int64

    package init(microsecondsSinceUnixEpoch: Int64) {
        self.microsecondsSinceUnixEpoch = microsecondsSinceUnixEpoch
    }

    package init(millisecondsSinceUnixEpoch: Int64) {
        self.microsecondsSinceUnixEpoch = millisecondsSinceUnixEpoch.multipliedReportingOverflow(by: 1000).overflow
            ? (millisecondsSinceUnixEpoch < 0 ? .min : .max)
            : millisecondsSinceUnixEpoch * 1000
    }

    package static let infinity = PostgresTimestamp(microsecondsSinceUnixEpoch: .max)
    package static let negativeInfinity = PostgresTimestamp(microsecondsSinceUnixEpoch: .min)

    package var isFinite: Bool { self != .infinity && self != .negativeInfinity }

    /// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC).
    static let postgresEpochOffset: Int64 = 946_684_800_000_000

    package static func < (lhs: PostgresTimestamp, rhs: PostgresTimestamp) -> Bool {
        lhs.microsecondsSinceUnixEpoch < rhs.microsecondsSinceUnixEpoch
    }

    package var description: String {
        switch self {
        case .infinity: "infinity"
        case .negativeInfinity: "-infinity"
        default: "\(microsecondsSinceUnixEpoch)µs since 1970-01-01Z"
        }
    }
}

extension PostgresTimestamp: PostgresEncodable {
    package static var postgresType: PostgresDataType { .timestamptz }
    package func encode(into buffer: inout PostgresEncodingBuffer) throws {
        switch self {
        case .infinity: buffer.writeInteger(Int64.max)
        case .negativeInfinity: buffer.writeInteger(Int64.min)
        default:
            let (value, overflow) = microsecondsSinceUnixEpoch.subtractingReportingOverflow(Self.postgresEpochOffset)
            guard !overflow, value != .max, value != .min else {
                throw PostgresError(code: .encoding, message: "timestamp \(microsecondsSinceUnixEpoch)µs since 1970 is outside PostgreSQL's range")
            }
            buffer.writeInteger(value)
        }
    }
}

extension PostgresTimestamp: PostgresDecodable {
    package static func decode(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> PostgresTimestamp {
        guard type == .timestamptz || type == .timestamp else {
            throw PostgresDecodingFailure.unsupported(type, expected: "timestamptz or timestamp")
        }
        var reader = PostgresByteReader(bytes)
        guard bytes.count == 8, let value = reader.readInteger(as: Int64.self) else {
            throw PostgresDecodingFailure.size(bytes.count, expected: 8, type: type)
        }
        switch value {
        case .max: return .infinity
        case .min: return .negativeInfinity
        default: return PostgresTimestamp(microsecondsSinceUnixEpoch: value + postgresEpochOffset)
        }
    }
}
