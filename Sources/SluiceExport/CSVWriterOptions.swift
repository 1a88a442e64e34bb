/// Formatting and buffering choices for a `CSVWriter`.
package struct CSVWriterOptions: Sendable {
    /// Write the column names as the first row. Default `true`.
    package var writeHeader = true
    /// Row terminator. Default CRLF, as RFC 4180 specifies.
    package var lineTerminator = "\r\n"
    /// Digits of second fraction for timestamps: 3 (milliseconds, the
    /// default) or 6 (microseconds; keeps the full precision of micros columns).
    package var timestampFractionDigits = 3
    /// The writer hands its buffer to the file once it holds this many bytes. Default 1 MiB.
    package var bufferBytes = 1 << 20

    /// Creates options with the defaults above.
    package init() {}
}
