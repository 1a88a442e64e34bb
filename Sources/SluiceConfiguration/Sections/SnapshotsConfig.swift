/// `snapshots:` — labelled-data exports for retraining.
package struct SnapshotsConfig: Hashable, Sendable {
    /// `directory`: where Parquet, CSV and manifest files are written.
    package var directory: String = "./snapshots"
    /// `on_alert`: export a snapshot when a drift alert fires.
    package var onAlert: Bool = true
    /// `cooldown`: after a snapshot for an alert, further alerts of the same model within this time take none.
    package var cooldown: Duration = .seconds(3_600)
    /// `schedule`: also export periodically (nil = only on alert or on request).
    package var schedule: Duration?
    /// `holdout_fraction`: share of rows marked as holdout.
    package var holdoutFraction: Double = 0.2
    /// `row_group_rows`: Parquet row-group size.
    package var rowGroupRows: Int = 65536

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> SnapshotsConfig {
        var c = SnapshotsConfig()
        c.directory = m.value("directory", default: c.directory, .nonEmptyString)
        c.onAlert = m.value("on_alert", default: c.onAlert, .bool)
        c.cooldown = m.value("cooldown", default: c.cooldown, .duration(.seconds(0)...Duration.seconds(365 * 86_400)))
        c.schedule = m.optional("schedule", .duration(.seconds(60)...Duration.seconds(365 * 86_400)))
        c.holdoutFraction = m.value("holdout_fraction", default: c.holdoutFraction, .number(0...1))
        c.rowGroupRows = m.value("row_group_rows", default: c.rowGroupRows, .integer(1...(1 << 24)))
        return c
    }
}
