import Foundation
import SluiceFeatures
import SluiceKafka
import SluiceService
import SluiceSnapshots

/// How `sluice snapshot` prints: aligned text for people, JSON (`--json`) for programs.
extension SnapshotCommand {
    /// A `snapshots` row as `snapshot list --json` prints it.
    struct EntryJSON: Encodable {
        var entry: SnapshotEntry

        init(_ entry: SnapshotEntry) { self.entry = entry }

        enum CodingKeys: String, CodingKey {
            case reason, rows, since, until, directory, files, model
            case snapshotID = "snapshot_id", createdAt = "created_at", alertID = "alert_id", holdoutRows = "holdout_rows"
        }

        enum ModelKeys: String, CodingKey { case name, version }
        enum FileKeys: String, CodingKey { case parquet, csv, manifest, parquetSHA256 = "parquet_sha256", csvSHA256 = "csv_sha256" }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entry.snapshotID, forKey: .snapshotID)
            try container.encode(formatRFC3339(millis: entry.createdAtMillis), forKey: .createdAt)
            try container.encode(entry.reason, forKey: .reason)
            try container.encode(entry.alertID, forKey: .alertID)
            var model = container.nestedContainer(keyedBy: ModelKeys.self, forKey: .model)
            try model.encode(entry.modelName, forKey: .name)
            try model.encode(entry.modelVersion, forKey: .version)
            try container.encode(entry.sinceMillis.map(formatRFC3339(millis:)), forKey: .since)
            try container.encode(entry.untilMillis.map(formatRFC3339(millis:)), forKey: .until)
            try container.encode(entry.rows, forKey: .rows)
            try container.encode(entry.holdoutRows, forKey: .holdoutRows)
            try container.encode(entry.directory, forKey: .directory)
            var files = container.nestedContainer(keyedBy: FileKeys.self, forKey: .files)
            try files.encode(entry.parquetFile, forKey: .parquet)
            try files.encode(entry.csvFile, forKey: .csv)
            try files.encode(entry.manifestFile, forKey: .manifest)
            try files.encode(entry.parquetSHA256, forKey: .parquetSHA256)
            try files.encode(entry.csvSHA256, forKey: .csvSHA256)
        }
    }

    static func json(_ publication: SnapshotPublication) throws -> String {
        try ModelsCommand.json(SnapshotCreatedJSON(publication))
    }

    static func text(_ publication: SnapshotPublication, topic: String) -> String {
        let snapshot = publication.snapshot
        let manifest = snapshot.manifest
        var model = manifest.model.name.map { "model \($0)" } ?? "no single model"
        if let version = manifest.model.version { model += " version \(version)" }
        var lines = ["snapshot \(manifest.snapshotID): \(manifest.rows) rows (\(manifest.holdoutRows) holdout), \(model)"]
        lines.append("  directory   \(snapshot.directory)")
        let files = manifest.files.map { "\($0.name) (\(size($0.bytes)), sha256 \($0.sha256.prefix(12)))" } + [Snapshot.FileName.manifest]
        lines.append("  files       " + files.joined(separator: ", "))
        let features = manifest.columns.count - (manifest.split == nil ? 9 : 10)
        lines.append("  columns     \(manifest.columns.count) (\(features) features)")
        lines.append("  event time  \(manifest.timeRange.minEventTime) → \(manifest.timeRange.maxEventTime)")
        switch publication.outcome {
        case .delivered(let report):
            lines.append("  retrain request published to \(report.topic) (partition \(report.partition), offset \(report.offset))")
        case .skipped:
            lines.append("  retrain request not published (--no-publish)")
        case .failed:
            lines.append("  retrain request NOT published to \(topic)")
        }
        return lines.joined(separator: "\n")
    }
}
