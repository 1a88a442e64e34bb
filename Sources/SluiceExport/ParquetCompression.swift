/// The codec applied to every data page of a Parquet file.
package enum ParquetCompression: Hashable, Sendable, CustomStringConvertible {
    /// No compression (the default): fastest to write and read.
    case uncompressed
    /// Raw Snappy blocks (Parquet's SNAPPY codec), by our own compressor.
    case snappy

    /// Parquet `CompressionCodec` enum value.
    var codec: Int32 {
        switch self {
        case .uncompressed: 0
        case .snappy: 1
        }
    }

    package var description: String {
        switch self {
        case .uncompressed: "uncompressed"
        case .snappy: "snappy"
        }
    }
}
