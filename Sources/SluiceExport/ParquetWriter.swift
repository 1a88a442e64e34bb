/// Streams a flat table into a Parquet file readable by pyarrow, pandas,
/// DuckDB and Spark.
///
/// Values are appended column by column (`appendDouble(column:_:)` …) and
/// rows completed with `endRow()`. A row group is encoded and written when it
/// reaches `ParquetWriterOptions.rowGroupRows` rows or about
/// `rowGroupBytes` bytes, so memory holds only the current row group. Pages
/// are DATA_PAGE v1 with PLAIN values and RLE definition levels, optionally
/// Snappy-compressed. The file is written as `<path>.tmp` and renamed to
/// `path` by `close()` after fsync.
///
/// Not thread-safe: one writer belongs to one task or thread at a time.
package final class ParquetWriter: SnapshotTableWriter {
    private enum State {
        case open
        case closed
        case failed
    }

    package let schema: ParquetSchema
    package let options: ParquetWriterOptions
    /// The final file path.
    package let path: String

    package private(set) var rowsWritten: Int64 = 0
    /// Row groups written so far.
    package private(set) var rowGroupsWritten: Int = 0

    private let output: AtomicFileOutput
    private var state = State.open
    /// One builder per column, in manually managed memory (see `ParquetColumnBuilder`).
    private let builders: UnsafeMutablePointer<ParquetColumnBuilder>
    private let columnCount: Int
    private var rowsInGroup = 0
    private var rowGroups: [ParquetRowGroupMetadata] = []
    private let compressor = SnappyCompressor()
    private var scratch = ByteBuffer(capacity: 64 << 10)
    private var compressed = ByteBuffer(capacity: 64 << 10)

    /// Creates `<path>.tmp` and writes the leading magic.
    /// - Parameters:
    ///   - path: final file path; replaced atomically on `close()`.
    ///   - schema: the columns.
    ///   - options: row group / page sizes, compression and footer metadata.
    /// - Throws: `ExportError` `.invalidSchema` for non-positive sizes, `.io` when the file cannot be created.
    package init(path: String, schema: ParquetSchema, options: ParquetWriterOptions = ParquetWriterOptions())
        throws(ExportError)
    {
        guard options.rowGroupRows > 0, options.rowGroupBytes > 0, options.pageBytes > 0 else {
            throw ExportError(
                code: .invalidSchema,
                message: "rowGroupRows, rowGroupBytes and pageBytes must be positive, got "
                    + "\(options.rowGroupRows), \(options.rowGroupBytes), \(options.pageBytes)")
        }
        self.path = path
        self.schema = schema
        self.options = options
        // The file first: if it cannot be created, nothing else needs releasing.
        self.output = try AtomicFileOutput(path: path)
        self.columnCount = schema.columns.count
        self.builders = UnsafeMutablePointer<ParquetColumnBuilder>.allocate(capacity: schema.columns.count)
        for (index, column) in schema.columns.enumerated() {
            (builders + index).initialize(to: ParquetColumnBuilder(column: column))
        }
        do throws(ExportError) {
            try output.writeAll(Self.magic)
        } catch {
            output.discard()
            throw error
        }
    }

    deinit {
        builders.deinitialize(count: columnCount)
        builders.deallocate()
    }

    static let magic: [UInt8] = Array("PAR1".utf8)

    /// Bytes written to the file so far (the full file size after `close()`).
    package var bytesWritten: Int64 { output.offset }

    /// Data pages written so far, over all columns.
    package var pagesWritten: Int {
        (0..<columnCount).reduce(0) { $0 + builders[$1].pagesWritten }
    }

    // MARK: appending values

    /// Checks that `column` exists, has type `kind` and has no value yet in this row.
    @inline(__always)
    private func check(_ column: Int, _ kind: ParquetColumnBuilder.Kind, _ call: StaticString) throws(ExportError) {
        guard state == .open else { throw closedError() }
        guard column >= 0 && column < columnCount else { throw unknownColumn(column) }
        guard builders[column].kind == kind else { throw wrongType(column, call) }
        guard builders[column].valuesInGroup == rowsInGroup else { throw duplicateValue(column) }
    }

    package func appendDouble(column: Int, _ value: Double) throws(ExportError) {
        try check(column, .double, "appendDouble")
        builders[column].appendDouble(value)
        try pageCheck(column)
    }

    package func appendFloat(column: Int, _ value: Float) throws(ExportError) {
        try check(column, .float, "appendFloat")
        builders[column].appendFloat(value)
        try pageCheck(column)
    }

    package func appendInt64(column: Int, _ value: Int64) throws(ExportError) {
        try check(column, .int64, "appendInt64")
        builders[column].appendInt64(value)
        try pageCheck(column)
    }

    package func appendInt32(column: Int, _ value: Int32) throws(ExportError) {
        try check(column, .int32, "appendInt32")
        builders[column].appendInt32(value)
        try pageCheck(column)
    }

    package func appendBool(column: Int, _ value: Bool) throws(ExportError) {
        try check(column, .bool, "appendBool")
        builders[column].appendBool(value)
        try pageCheck(column)
    }

    package func appendTimestamp(column: Int, _ value: Int64) throws(ExportError) {
        try check(column, .timestamp, "appendTimestamp")
        builders[column].appendInt64(value)
        try pageCheck(column)
    }

    package func appendString(column: Int, _ value: String) throws(ExportError) {
        try check(column, .string, "appendString")
        var value = value
        value.withUTF8 { builders[column].appendBytes(UnsafeRawBufferPointer($0)) }
        try pageCheck(column)
    }

    package func appendString(column: Int, utf8 bytes: UnsafeRawBufferPointer) throws(ExportError) {
        try check(column, .string, "appendString")
        builders[column].appendBytes(bytes)
        try pageCheck(column)
    }

    package func appendNull(column: Int) throws(ExportError) {
        guard state == .open else { throw closedError() }
        guard column >= 0 && column < columnCount else { throw unknownColumn(column) }
        guard builders[column].isOptional else {
            throw ExportError(
                code: .nullInRequiredColumn,
                message: "column is required (not optional), got NULL; declare it optional to allow NULL",
                column: builders[column].column.name, row: rowsWritten)
        }
        guard builders[column].valuesInGroup == rowsInGroup else { throw duplicateValue(column) }
        builders[column].appendNull()
        try pageCheck(column)
    }

    @inline(__always)
    private func pageCheck(_ column: Int) throws(ExportError) {
        if builders[column].pageBytes >= options.pageBytes {
            builders[column].flushPage(
                compression: options.compression, compressor: compressor, scratch: &scratch, compressed: &compressed)
        }
    }

    package func endRow() throws(ExportError) {
        guard state == .open else { throw closedError() }
        let expected = rowsInGroup + 1
        for index in 0..<columnCount where builders[index].valuesInGroup != expected {
            throw ExportError(
                code: .rowShape,
                message: "endRow() called but the column has no value for this row; append a value or NULL first",
                column: builders[index].column.name, row: rowsWritten)
        }
        rowsInGroup = expected
        rowsWritten += 1
        if rowsInGroup >= options.rowGroupRows
            || (rowsInGroup & 1023 == 0 && bufferedBytes >= options.rowGroupBytes)
        {
            try writeRowGroup()
        }
    }

    // MARK: appending a column at a time

    /// Rows that still fit the current row group: the most a column-at-a-time batch may hold.
    package var rowsLeftInRowGroup: Int { options.rowGroupRows - rowsInGroup }

    /// Appends `count` values to a `double` column, one column at a time: give every column `count` values with
    /// the `append…Column` calls, then call `endRows(_:)`. `value(i)` is the i-th value, nil for NULL.
    ///
    /// Filling a column at a time writes each column's page buffer as one sequential stream; with dozens of
    /// columns, the row-at-a-time calls interleave as many streams and spend their time on cache misses.
    /// - Throws: `ExportError` `.wrongType`, `.nullInRequiredColumn`, `.rowShape` (the column already has values
    ///   for these rows, or `count` exceeds `rowsLeftInRowGroup`).
    package func appendDoubleColumn(column: Int, count: Int, _ value: (Int) -> Double?) throws(ExportError) {
        try checkColumn(column, .double, count, "appendDoubleColumn")
        for index in 0..<count {
            if let value = value(index) { builders[column].appendDouble(value) } else { try columnNull(column) }
            try pageCheck(column)
        }
    }

    /// Like `appendDoubleColumn(column:count:_:)` for an `int64` column.
    package func appendInt64Column(column: Int, count: Int, _ value: (Int) -> Int64?) throws(ExportError) {
        try checkColumn(column, .int64, count, "appendInt64Column")
        for index in 0..<count {
            if let value = value(index) { builders[column].appendInt64(value) } else { try columnNull(column) }
            try pageCheck(column)
        }
    }

    /// Like `appendDoubleColumn(column:count:_:)` for a `timestamp` column (values in the column's unit).
    package func appendTimestampColumn(column: Int, count: Int, _ value: (Int) -> Int64?) throws(ExportError) {
        try checkColumn(column, .timestamp, count, "appendTimestampColumn")
        for index in 0..<count {
            if let value = value(index) { builders[column].appendInt64(value) } else { try columnNull(column) }
            try pageCheck(column)
        }
    }

    /// Like `appendDoubleColumn(column:count:_:)` for a `bool` column.
    package func appendBoolColumn(column: Int, count: Int, _ value: (Int) -> Bool?) throws(ExportError) {
        try checkColumn(column, .bool, count, "appendBoolColumn")
        for index in 0..<count {
            if let value = value(index) { builders[column].appendBool(value) } else { try columnNull(column) }
            try pageCheck(column)
        }
    }

    /// Like `appendDoubleColumn(column:count:_:)` for a `string` column: `value(i)` is the UTF-8 bytes.
    package func appendStringColumn(column: Int, count: Int, _ value: (Int) -> UnsafeRawBufferPointer?) throws(ExportError) {
        try checkColumn(column, .string, count, "appendStringColumn")
        for index in 0..<count {
            if let value = value(index) { builders[column].appendBytes(value) } else { try columnNull(column) }
            try pageCheck(column)
        }
    }

    /// Completes `count` rows whose values were given a column at a time; writes the row group when it is full.
    /// - Throws: `ExportError` `.rowShape` naming the first column without exactly `count` new values.
    package func endRows(_ count: Int) throws(ExportError) {
        guard state == .open else { throw closedError() }
        let expected = rowsInGroup + count
        for index in 0..<columnCount where builders[index].valuesInGroup != expected {
            throw ExportError(
                code: .rowShape,
                message: "endRows(\(count)) called but the column has \(builders[index].valuesInGroup - rowsInGroup) new values",
                column: builders[index].column.name, row: rowsWritten)
        }
        rowsInGroup = expected
        rowsWritten += Int64(count)
        if rowsInGroup >= options.rowGroupRows || bufferedBytes >= options.rowGroupBytes {
            try writeRowGroup()
        }
    }

    @inline(__always)
    private func checkColumn(_ column: Int, _ kind: ParquetColumnBuilder.Kind, _ count: Int, _ call: StaticString) throws(ExportError) {
        try check(column, kind, call)
        guard count >= 0 && count <= rowsLeftInRowGroup else {
            throw ExportError(
                code: .rowShape,
                message: "\(call) with \(count) values, expected 0…\(rowsLeftInRowGroup) (the rows left in the row group)",
                column: schema.columns[column].name, row: rowsWritten)
        }
    }

    @inline(__always)
    private func columnNull(_ column: Int) throws(ExportError) {
        guard builders[column].isOptional else {
            throw ExportError(
                code: .nullInRequiredColumn,
                message: "column is required (not optional), got NULL; declare it optional to allow NULL",
                column: builders[column].column.name, row: rowsWritten + Int64(builders[column].valuesInGroup - rowsInGroup))
        }
        builders[column].appendNull()
    }

    /// Bytes held for the current row group over all columns.
    package var bufferedBytes: Int {
        (0..<columnCount).reduce(0) { $0 + builders[$1].bufferedBytes }
    }

    // MARK: row groups and footer

    private func writeRowGroup() throws(ExportError) {
        guard rowsInGroup > 0 else { return }
        var chunks: [ParquetChunkMetadata] = []
        chunks.reserveCapacity(columnCount)
        do throws(ExportError) {
            for index in 0..<columnCount {
                builders[index].flushPage(
                    compression: options.compression, compressor: compressor, scratch: &scratch,
                    compressed: &compressed)
                let offset = output.offset
                try output.writeAll(builders[index].chunkBytes)
                chunks.append(
                    builders[index].chunkMetadata(
                        fileOffset: offset, maxStringStatisticsBytes: options.maxStringStatisticsBytes))
                builders[index].resetChunk(keepAtMost: Int.max)
            }
        } catch {
            state = .failed
            throw error
        }
        rowGroups.append(ParquetRowGroupMetadata(numRows: Int64(rowsInGroup), columns: chunks))
        rowGroupsWritten += 1
        rowsInGroup = 0
    }

    package func close() throws(ExportError) {
        guard state == .open else { throw closedError() }
        if (0..<columnCount).contains(where: { builders[$0].valuesInGroup != rowsInGroup }) {
            // Name the first column still waiting for its value.
            let incomplete = (0..<columnCount).first { builders[$0].valuesInGroup == rowsInGroup } ?? 0
            throw ExportError(
                code: .rowShape,
                message: "close() called in the middle of a row; call endRow() (or discard()) first",
                column: schema.columns[incomplete].name, row: rowsWritten)
        }
        do throws(ExportError) {
            try writeRowGroup()
            let footer = ParquetFooterEncoder.encode(
                schema: schema, rowGroups: rowGroups, numRows: rowsWritten, options: options)
            var tail = footer
            let length = UInt32(footer.count)
            tail.append(contentsOf: withUnsafeBytes(of: length.littleEndian) { Array($0) })
            tail.append(contentsOf: Self.magic)
            try output.writeAll(tail)
            try output.commit()
            state = .closed
        } catch {
            state = .failed
            output.discard()
            throw error
        }
    }

    package func discard() {
        output.discard()
        state = .failed
    }

    // MARK: errors

    private func closedError() -> ExportError {
        ExportError(
            code: .closed,
            message: state == .closed
                ? "the writer is closed; create a new writer to write more rows"
                : "the writer failed or was discarded earlier; create a new writer",
            path: path)
    }

    private func unknownColumn(_ column: Int) -> ExportError {
        ExportError(
            code: .unknownColumn,
            message: "column index \(column) does not exist, expected 0..<\(columnCount)", row: rowsWritten)
    }

    private func wrongType(_ column: Int, _ call: StaticString) -> ExportError {
        ExportError(
            code: .wrongType,
            message: "\(call) does not match the column's type \(schema.columns[column].type)",
            column: schema.columns[column].name, row: rowsWritten)
    }

    private func duplicateValue(_ column: Int) -> ExportError {
        ExportError(
            code: .rowShape,
            message: "the column already has a value for this row; call endRow() before the next row",
            column: schema.columns[column].name, row: rowsWritten)
    }
}
