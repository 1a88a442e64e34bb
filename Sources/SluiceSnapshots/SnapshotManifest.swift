/// `manifest.json` of a snapshot: what it holds and how it was cut, with the size and SHA-256 of each data file.
///
/// Every key is always present (null when it does not apply), so readers need no defaults.
package struct SnapshotManifest: Sendable, Hashable, Codable {
    /// The `{name, version}` of the model the rows were scored by: the request's filter, or the one model of
    /// every selected row, else null.
    package struct Model: Sendable, Hashable, Codable {
        package var name: String?
        package var version: Int?

        package init(name: String?, version: Int?) {
            self.name = name
            self.version = version
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(version, forKey: .version)
        }

        enum CodingKeys: String, CodingKey { case name, version }
    }

    /// The requested event-time range (`since` inclusive, `until` exclusive; null when open) and the event times
    /// of the oldest and newest exported rows. RFC 3339, UTC, milliseconds.
    package struct TimeRange: Sendable, Hashable, Codable {
        package var since: String?
        package var until: String?
        package var minEventTime: String
        package var maxEventTime: String

        package init(since: String?, until: String?, minEventTime: String, maxEventTime: String) {
            self.since = since
            self.until = until
            self.minEventTime = minEventTime
            self.maxEventTime = maxEventTime
        }

        enum CodingKeys: String, CodingKey {
            case since, until
            case minEventTime = "min_event_time", maxEventTime = "max_event_time"
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(since, forKey: .since)
            try container.encode(until, forKey: .until)
            try container.encode(minEventTime, forKey: .minEventTime)
            try container.encode(maxEventTime, forKey: .maxEventTime)
        }
    }

    /// How rows were split into train and holdout (see ``HoldoutSplit``).
    package struct Split: Sendable, Hashable, Codable {
        /// The column holding `train` or `holdout`.
        package var column: String
        /// The column the rule hashes.
        package var key: String
        /// `fnv1a-64+fmix64`.
        package var hash: String
        /// The rule in one line.
        package var rule: String

        package init(column: String, key: String, hash: String, rule: String) {
            self.column = column
            self.key = key
            self.hash = hash
            self.rule = rule
        }
    }

    /// A data file of the snapshot, by name within the snapshot's directory.
    package struct File: Sendable, Hashable, Codable {
        package var name: String
        package var bytes: Int64
        /// Lower-case hex SHA-256 of the file's bytes.
        package var sha256: String

        package init(name: String, bytes: Int64, sha256: String) {
            self.name = name
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// Layout of the Parquet file.
    package struct Parquet: Sendable, Hashable, Codable {
        package var compression: String
        package var rowGroupRows: Int
        package var rowGroups: Int

        package init(compression: String, rowGroupRows: Int, rowGroups: Int) {
            self.compression = compression
            self.rowGroupRows = rowGroupRows
            self.rowGroups = rowGroups
        }

        enum CodingKeys: String, CodingKey {
            case compression
            case rowGroupRows = "row_group_rows", rowGroups = "row_groups"
        }
    }

    /// 1 for this layout.
    package var formatVersion: Int
    package var snapshotID: String
    /// RFC 3339, UTC, milliseconds.
    package var createdAt: String
    package var reason: SnapshotReason
    package var alertID: String?
    package var model: Model
    package var timeRange: TimeRange
    package var rows: Int64
    package var holdoutRows: Int64
    package var holdoutFraction: Double
    /// Null when the holdout fraction is 0 (no `split` column).
    package var split: Split?
    /// Where the rows came from: `{schema}.labelled`.
    package var source: String
    package var columns: [SnapshotColumn]
    /// `data.parquet` and `data.csv`.
    package var files: [File]
    package var parquet: Parquet

    package init(formatVersion: Int = 1, snapshotID: String, createdAt: String, reason: SnapshotReason, alertID: String?,
                 model: Model, timeRange: TimeRange, rows: Int64, holdoutRows: Int64, holdoutFraction: Double, split: Split?,
                 source: String, columns: [SnapshotColumn], files: [File], parquet: Parquet) {
        self.formatVersion = formatVersion
        self.snapshotID = snapshotID
        self.createdAt = createdAt
        self.reason = reason
        self.alertID = alertID
        self.model = model
        self.timeRange = timeRange
        self.rows = rows
        self.holdoutRows = holdoutRows
        self.holdoutFraction = holdoutFraction
        self.split = split
        self.source = source
        self.columns = columns
        self.files = files
        self.parquet = parquet
    }

    enum CodingKeys: String, CodingKey {
        case reason, model, rows, split, source, columns, files, parquet
        case formatVersion = "format_version", snapshotID = "snapshot_id", createdAt = "created_at", alertID = "alert_id"
        case timeRange = "time_range", holdoutRows = "holdout_rows", holdoutFraction = "holdout_fraction"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(snapshotID, forKey: .snapshotID)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(reason, forKey: .reason)
        try container.encode(alertID, forKey: .alertID)
        try container.encode(model, forKey: .model)
        try container.encode(timeRange, forKey: .timeRange)
        try container.encode(rows, forKey: .rows)
        try container.encode(holdoutRows, forKey: .holdoutRows)
        try container.encode(holdoutFraction, forKey: .holdoutFraction)
        try container.encode(split, forKey: .split)
        try container.encode(source, forKey: .source)
        try container.encode(columns, forKey: .columns)
        try container.encode(files, forKey: .files)
        try container.encode(parquet, forKey: .parquet)
    }

    /// The entry of the file named `name`.
    package func file(_ name: String) -> File? { files.first { $0.name == name } }
}
