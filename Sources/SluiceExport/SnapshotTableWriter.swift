/// The columnar append API shared by `ParquetWriter` and `CSVWriter`, so a
/// snapshot can be written to both formats by the same code.
///
/// For each row, give every column exactly one value (or NULL) with the
/// `append…(column:_:)` call matching its type, then call `endRow()`.
/// Columns are addressed by their index in the schema. `CSVWriter` needs the
/// values of a row in column order; `ParquetWriter` accepts any order.
package protocol SnapshotTableWriter: AnyObject {
    /// The columns being written.
    var schema: ParquetSchema { get }
    /// Rows completed with `endRow()`.
    var rowsWritten: Int64 { get }
    /// Bytes written to the (temporary) file so far; the file size after `close()`.
    var bytesWritten: Int64 { get }

    /// Appends a value to a `double` column.
    func appendDouble(column: Int, _ value: Double) throws(ExportError)
    /// Appends a value to a `float` column.
    func appendFloat(column: Int, _ value: Float) throws(ExportError)
    /// Appends a value to an `int64` column.
    func appendInt64(column: Int, _ value: Int64) throws(ExportError)
    /// Appends a value to an `int32` column.
    func appendInt32(column: Int, _ value: Int32) throws(ExportError)
    /// Appends a value to a `bool` column.
    func appendBool(column: Int, _ value: Bool) throws(ExportError)
    /// Appends a value to a `string` column.
    func appendString(column: Int, _ value: String) throws(ExportError)
    /// Appends UTF-8 bytes to a `string` column (no `String` needed).
    func appendString(column: Int, utf8 bytes: UnsafeRawBufferPointer) throws(ExportError)
    /// Appends a value to a `timestamp` column, counted in the column's unit since the Unix epoch.
    func appendTimestamp(column: Int, _ value: Int64) throws(ExportError)
    /// Appends NULL to an optional column.
    func appendNull(column: Int) throws(ExportError)
    /// Completes the current row; throws `.rowShape` naming the first column without a value.
    func endRow() throws(ExportError)
    /// Writes what is buffered, syncs, and renames `<path>.tmp` to `path`.
    func close() throws(ExportError)
    /// Abandons the file: closes and deletes `<path>.tmp`.
    func discard()
}

extension SnapshotTableWriter {
    /// Appends one whole row of typed values (one per column, in schema order) and ends it.
    /// - Throws: `ExportError` `.rowShape` when the count differs from the schema,
    ///   `.wrongType` / `.nullInRequiredColumn` naming the column.
    package func append(row: [ExportValue]) throws(ExportError) {
        guard row.count == schema.columns.count else {
            throw ExportError(
                code: .rowShape,
                message: "row has \(row.count) values, expected one per column (\(schema.columns.count))",
                row: rowsWritten)
        }
        // Check every value first so a bad row leaves nothing half-appended.
        for (column, value) in row.enumerated() {
            let declared = schema.columns[column]
            let matches: Bool
            switch (value, declared.type) {
            case (.null, _): matches = declared.isOptional
            case (.double, .double), (.float, .float), (.int64, .int64), (.int32, .int32), (.bool, .bool),
                (.string, .string), (.timestamp, .timestamp):
                matches = true
            default: matches = false
            }
            guard matches else {
                if case .null = value {
                    throw ExportError(
                        code: .nullInRequiredColumn,
                        message: "column is required (not optional), got NULL; declare it optional to allow NULL",
                        column: declared.name, row: rowsWritten)
                }
                throw ExportError(
                    code: .wrongType, message: "got \(value), expected a \(declared.type) value",
                    column: declared.name, row: rowsWritten)
            }
        }
        for (column, value) in row.enumerated() {
            switch value {
            case .double(let value): try appendDouble(column: column, value)
            case .float(let value): try appendFloat(column: column, value)
            case .int64(let value): try appendInt64(column: column, value)
            case .int32(let value): try appendInt32(column: column, value)
            case .bool(let value): try appendBool(column: column, value)
            case .string(let value): try appendString(column: column, value)
            case .timestamp(let value): try appendTimestamp(column: column, value)
            case .null: try appendNull(column: column)
            }
        }
        try endRow()
    }
}
