/// Streams a snapshot table as RFC 4180 CSV.
///
/// A header row of column names, then one row per `endRow()`; fields that
/// contain a comma, quote, CR or LF are quoted with inner quotes doubled.
/// Doubles and floats use the shortest text that parses back to the same
/// value (`inf`, `-inf` for infinities); NaN and NULL become an empty field;
/// an empty string is written as `""` so it stays distinguishable from NULL;
/// booleans as `true`/`false`; timestamps as RFC 3339 UTC
/// (`2024-05-01T12:00:00.000Z`). Output goes through a bounded buffer to
/// `<path>.tmp`, renamed to `path` by `close()` after fsync.
///
/// Values of a row must be appended in column order. Not thread-safe.
package final class CSVWriter: SnapshotTableWriter {
    package let schema: ParquetSchema
    package let options: CSVWriterOptions
    /// The final file path.
    package let path: String
    package private(set) var rowsWritten: Int64 = 0

    private enum State {
        case open
        case closed
        case failed
    }

    private let output: AtomicFileOutput
    /// The output buffer, in manually managed memory so the per-field calls pay no
    /// dynamic exclusivity checks and the float formatter can write straight into it.
    private let buffer: UnsafeMutablePointer<ByteBuffer>
    private var state = State.open
    private var nextColumn = 0
    private let kinds: [ParquetColumnBuilder.Kind]
    private let lineTerminator: [UInt8]

    /// Creates `<path>.tmp` and writes the header row (unless disabled).
    /// - Throws: `ExportError` `.invalidSchema` for bad options, `.io` when the file cannot be created.
    package init(path: String, schema: ParquetSchema, options: CSVWriterOptions = CSVWriterOptions())
        throws(ExportError)
    {
        guard options.timestampFractionDigits == 3 || options.timestampFractionDigits == 6 else {
            throw ExportError(
                code: .invalidSchema,
                message: "timestampFractionDigits must be 3 or 6, got \(options.timestampFractionDigits)")
        }
        guard options.bufferBytes > 0 else {
            throw ExportError(code: .invalidSchema, message: "bufferBytes must be positive, got \(options.bufferBytes)")
        }
        self.path = path
        self.schema = schema
        self.options = options
        self.kinds = schema.columns.map { ParquetColumnBuilder.kind(of: $0.type) }
        self.lineTerminator = Array(options.lineTerminator.utf8)
        // The file first: if it cannot be created, nothing else needs releasing.
        self.output = try AtomicFileOutput(path: path)
        self.buffer = UnsafeMutablePointer<ByteBuffer>.allocate(capacity: 1)
        buffer.initialize(to: ByteBuffer(capacity: min(options.bufferBytes, 1 << 20) + 4096))
        if options.writeHeader {
            for (index, column) in schema.columns.enumerated() {
                if index > 0 { buffer.pointee.append(UInt8(ascii: ",")) }
                var name = column.name
                name.withUTF8 { appendQuotedIfNeeded(UnsafeRawBufferPointer($0)) }
            }
            buffer.pointee.append(lineTerminator)
        }
    }

    deinit {
        buffer.deinitialize(count: 1)
        buffer.deallocate()
    }

    /// Bytes handed to the file so far plus those still buffered.
    package var bytesWritten: Int64 { output.offset + Int64(buffer.pointee.count) }

    // MARK: appending values

    @inline(__always)
    private func startField(_ column: Int, _ kind: ParquetColumnBuilder.Kind, _ call: StaticString)
        throws(ExportError)
    {
        guard state == .open else { throw closedError() }
        guard column == nextColumn else { throw orderError(column) }
        guard kinds[column] == kind else {
            throw ExportError(
                code: .wrongType,
                message: "\(call) does not match the column's type \(schema.columns[column].type)",
                column: schema.columns[column].name, row: rowsWritten)
        }
        if column > 0 { buffer.pointee.append(UInt8(ascii: ",")) }
        nextColumn += 1
    }

    package func appendDouble(column: Int, _ value: Double) throws(ExportError) {
        try startField(column, .double, "appendDouble")
        guard !value.isNaN else { return }
        var sink = ByteBufferTextSink(target: buffer)
        value.write(to: &sink)
    }

    /// Appends a `double` value given as its decimal text (for example the bytes of a JSON number), written as
    /// is instead of formatting a `Double`: for values that arrive as text, this skips the float formatting,
    /// the most expensive part of writing a number.
    ///
    /// The caller guarantees `text` is a plain decimal number (`-?digits(.digits)?([eE][+-]?digits)?`) that
    /// CSV readers parse as a float, i.e. it holds a `.` or an exponent; NaN and infinities must go through
    /// `appendDouble(column:_:)`.
    package func appendDouble(column: Int, text: UnsafeRawBufferPointer) throws(ExportError) {
        try startField(column, .double, "appendDouble")
        buffer.pointee.append(text)
    }

    package func appendFloat(column: Int, _ value: Float) throws(ExportError) {
        try startField(column, .float, "appendFloat")
        guard !value.isNaN else { return }
        var sink = ByteBufferTextSink(target: buffer)
        value.write(to: &sink)
    }

    package func appendInt64(column: Int, _ value: Int64) throws(ExportError) {
        try startField(column, .int64, "appendInt64")
        appendInteger(value)
    }

    package func appendInt32(column: Int, _ value: Int32) throws(ExportError) {
        try startField(column, .int32, "appendInt32")
        appendInteger(Int64(value))
    }

    package func appendBool(column: Int, _ value: Bool) throws(ExportError) {
        try startField(column, .bool, "appendBool")
        if value {
            buffer.pointee.append(UInt8(ascii: "t")); buffer.pointee.append(UInt8(ascii: "r"))
            buffer.pointee.append(UInt8(ascii: "u")); buffer.pointee.append(UInt8(ascii: "e"))
        } else {
            buffer.pointee.append(UInt8(ascii: "f")); buffer.pointee.append(UInt8(ascii: "a")); buffer.pointee.append(UInt8(ascii: "l"))
            buffer.pointee.append(UInt8(ascii: "s")); buffer.pointee.append(UInt8(ascii: "e"))
        }
    }

    package func appendString(column: Int, _ value: String) throws(ExportError) {
        try startField(column, .string, "appendString")
        var value = value
        value.withUTF8 { appendQuotedIfNeeded(UnsafeRawBufferPointer($0), quoteEmpty: true) }
    }

    package func appendString(column: Int, utf8 bytes: UnsafeRawBufferPointer) throws(ExportError) {
        try startField(column, .string, "appendString")
        appendQuotedIfNeeded(bytes, quoteEmpty: true)
    }

    package func appendTimestamp(column: Int, _ value: Int64) throws(ExportError) {
        try startField(column, .timestamp, "appendTimestamp")
        let unitsPerSecond: Int64 = schema.columns[column].type == .timestamp(.millis) ? 1_000 : 1_000_000
        RFC3339Formatter.append(
            value, unitsPerSecond: unitsPerSecond, fractionDigits: options.timestampFractionDigits, into: &buffer.pointee)
    }

    package func appendNull(column: Int) throws(ExportError) {
        guard state == .open else { throw closedError() }
        guard column == nextColumn else { throw orderError(column) }
        guard schema.columns[column].isOptional else {
            throw ExportError(
                code: .nullInRequiredColumn,
                message: "column is required (not optional), got NULL; declare it optional to allow NULL",
                column: schema.columns[column].name, row: rowsWritten)
        }
        if column > 0 { buffer.pointee.append(UInt8(ascii: ",")) }
        nextColumn += 1
    }

    package func endRow() throws(ExportError) {
        guard state == .open else { throw closedError() }
        guard nextColumn == kinds.count else {
            throw ExportError(
                code: .rowShape,
                message: "endRow() called but the column has no value for this row; append a value or NULL first",
                column: schema.columns[nextColumn].name, row: rowsWritten)
        }
        buffer.pointee.append(lineTerminator)
        nextColumn = 0
        rowsWritten += 1
        if buffer.pointee.count >= options.bufferBytes {
            try flushBuffer()
        }
    }

    package func close() throws(ExportError) {
        guard state == .open else { throw closedError() }
        guard nextColumn == 0 else {
            throw ExportError(
                code: .rowShape, message: "close() called in the middle of a row; call endRow() (or discard()) first",
                column: schema.columns[nextColumn].name, row: rowsWritten)
        }
        do throws(ExportError) {
            try flushBuffer()
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
        buffer.pointee.removeAll()
        state = .failed
    }

    // MARK: encoding

    private func flushBuffer() throws(ExportError) {
        do throws(ExportError) {
            try output.writeAll(buffer.pointee.bytes)
        } catch {
            state = .failed
            throw error
        }
        buffer.pointee.removeAll(keepAtMost: max(options.bufferBytes, 1 << 16) * 2)
    }

    private func appendInteger(_ value: Int64) {
        if value < 0 { buffer.pointee.append(UInt8(ascii: "-")) }
        RFC3339Formatter.appendPadded(value.magnitude, width: 1, into: &buffer.pointee)
    }

    private func appendQuotedIfNeeded(_ bytes: UnsafeRawBufferPointer, quoteEmpty: Bool = false) {
        var needsQuotes = quoteEmpty && bytes.isEmpty
        if !needsQuotes {
            for byte in bytes where byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"")
                || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
            {
                needsQuotes = true
                break
            }
        }
        guard needsQuotes else {
            buffer.pointee.append(bytes)
            return
        }
        buffer.pointee.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { buffer.pointee.append(byte) }
            buffer.pointee.append(byte)
        }
        buffer.pointee.append(UInt8(ascii: "\""))
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

    private func orderError(_ column: Int) -> ExportError {
        guard column >= 0 && column < kinds.count else {
            return ExportError(
                code: .unknownColumn,
                message: "column index \(column) does not exist, expected 0..<\(kinds.count)", row: rowsWritten)
        }
        if nextColumn >= kinds.count {
            return ExportError(
                code: .rowShape, message: "the row already has a value for every column; call endRow() first",
                column: schema.columns[column].name, row: rowsWritten)
        }
        return ExportError(
            code: .rowShape,
            message: "CSV values must come in column order: expected column \(nextColumn) "
                + "(\"\(schema.columns[nextColumn].name)\"), got column \(column)",
            column: schema.columns[column].name, row: rowsWritten)
    }
}
