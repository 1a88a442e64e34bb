import SluiceFeatures

/// RFC 3339 text of epoch milliseconds (`2026-01-02T03:04:05.678Z`), as every snapshot file and message spells
/// times.
enum RFC3339 {
    static func format(_ millis: Int64) -> String {
        RFC3339Timestamp.format(millis: millis)
    }
}
