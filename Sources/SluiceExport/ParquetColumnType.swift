/// The value type of a snapshot column and how it maps onto Parquet.
///
/// | case        | Parquet physical type | annotation                                   |
/// |-------------|-----------------------|----------------------------------------------|
/// | `double`    | DOUBLE                | —                                            |
/// | `float`     | FLOAT                 | —                                            |
/// | `int64`     | INT64                 | —                                            |
/// | `int32`     | INT32                 | —                                            |
/// | `bool`      | BOOLEAN               | —                                            |
/// | `string`    | BYTE_ARRAY            | STRING logical type, UTF8 converted type     |
/// | `timestamp` | INT64                 | TIMESTAMP(isAdjustedToUTC, unit), TIMESTAMP_MILLIS/MICROS converted type |
package enum ParquetColumnType: Hashable, Sendable, CustomStringConvertible {
    case double
    case float
    case int64
    case int32
    case bool
    case string
    /// Integer count of `unit`s since the Unix epoch, UTC.
    case timestamp(TimestampUnit)

    /// The resolution of a timestamp column.
    package enum TimestampUnit: Hashable, Sendable {
        case millis
        case micros
    }

    package var description: String {
        switch self {
        case .double: "double"
        case .float: "float"
        case .int64: "int64"
        case .int32: "int32"
        case .bool: "bool"
        case .string: "string"
        case .timestamp(.millis): "timestamp(millis)"
        case .timestamp(.micros): "timestamp(micros)"
        }
    }

    /// Parquet `Type` enum value.
    var physicalType: Int32 {
        switch self {
        case .bool: 0
        case .int32: 1
        case .int64, .timestamp: 2
        case .float: 4
        case .double: 5
        case .string: 6
        }
    }
}
