/// Tuning and metadata for a `ParquetWriter`.
package struct ParquetWriterOptions: Sendable {
    /// A row group is written once it holds this many rows. Default 65,536.
    package var rowGroupRows: Int = 65_536
    /// A row group is also written once its encoded columns reach about this
    /// many bytes (checked every 1,024 rows), which bounds memory for wide
    /// rows or long strings. Default 128 MiB.
    package var rowGroupBytes: Int = 128 << 20
    /// A data page is closed once its PLAIN values (plus one byte per
    /// definition level of an optional column) reach this many bytes, so a
    /// column chunk holds several pages. Default 1 MiB.
    package var pageBytes: Int = 1 << 20
    /// The page codec. Default `.uncompressed`.
    package var compression: ParquetCompression = .uncompressed
    /// Written as the file's `created_by`; readers parse "<app> version <x.y.z>".
    package var createdBy: String = "sluice version 0.1.0"
    /// Caller-supplied key/value pairs stored in the footer (for example the snapshot id).
    package var keyValueMetadata: [(key: String, value: String)] = []
    /// String statistics (min/max) are written only when both are at most this many bytes.
    package var maxStringStatisticsBytes: Int = 64

    /// Creates options with the defaults above.
    package init() {}
}
