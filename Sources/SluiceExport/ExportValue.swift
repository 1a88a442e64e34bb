/// One typed cell, for the row-at-a-time `append(row:)` convenience API.
///
/// The columnar calls (`appendDouble(column:_:)` …) avoid building these and
/// are the fast path.
package enum ExportValue: Hashable, Sendable {
    case double(Double)
    case float(Float)
    case int64(Int64)
    case int32(Int32)
    case bool(Bool)
    case string(String)
    /// Count of the column's unit (millis or micros) since the Unix epoch, UTC.
    case timestamp(Int64)
    case null
}
