import Foundation
import SluiceKafka

/// The message on the retrain-requests topic that tells a training job a snapshot is ready.
///
/// ```json
/// {"snapshot_id": "snap-20260102T030405Z-9f86d081", "uri": "file:///data/snapshots/snap-20260102T030405Z-9f86d081/",
///  "rows": 120000, "holdout_rows": 24113, "model": {"name": "fraud", "version": 3}, "reason": "alert",
///  "alert_id": "…", "created_at": "2026-01-02T03:04:05.678Z",
///  "files": {"parquet": "data.parquet", "csv": "data.csv", "manifest": "manifest.json"}}
/// ```
/// `alert_id` is left out when the snapshot was not taken for an alert; `model`'s members are null when the
/// snapshot is not of one model. File names are relative to `uri`. The Kafka key is the model name.
package struct RetrainRequest: Sendable, Hashable, Codable {
    /// The data files, by name within the snapshot's directory.
    package struct Files: Sendable, Hashable, Codable {
        package var parquet: String
        package var csv: String
        package var manifest: String

        package init(parquet: String, csv: String, manifest: String) {
            self.parquet = parquet
            self.csv = csv
            self.manifest = manifest
        }
    }

    package var snapshotID: String
    /// `file://` URI of the snapshot's directory, ending in `/`.
    package var uri: String
    package var rows: Int64
    package var holdoutRows: Int64
    package var model: SnapshotManifest.Model
    package var reason: SnapshotReason
    package var alertID: String?
    /// RFC 3339, UTC, milliseconds: when the snapshot was taken.
    package var createdAt: String
    package var files: Files

    package init(snapshotID: String, uri: String, rows: Int64, holdoutRows: Int64, model: SnapshotManifest.Model,
                 reason: SnapshotReason, alertID: String?, createdAt: String, files: Files) {
        self.snapshotID = snapshotID
        self.uri = uri
        self.rows = rows
        self.holdoutRows = holdoutRows
        self.model = model
        self.reason = reason
        self.alertID = alertID
        self.createdAt = createdAt
        self.files = files
    }

    /// The request announcing `snapshot`.
    package init(snapshot: Snapshot) {
        let manifest = snapshot.manifest
        self.init(
            snapshotID: manifest.snapshotID, uri: URL(fileURLWithPath: snapshot.directory, isDirectory: true).absoluteString,
            rows: manifest.rows, holdoutRows: manifest.holdoutRows, model: manifest.model, reason: manifest.reason,
            alertID: manifest.alertID, createdAt: manifest.createdAt,
            files: Files(parquet: Snapshot.FileName.parquet, csv: Snapshot.FileName.csv, manifest: Snapshot.FileName.manifest))
    }

    enum CodingKeys: String, CodingKey {
        case uri, rows, model, reason, files
        case snapshotID = "snapshot_id", holdoutRows = "holdout_rows", alertID = "alert_id", createdAt = "created_at"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(snapshotID, forKey: .snapshotID)
        try container.encode(uri, forKey: .uri)
        try container.encode(rows, forKey: .rows)
        try container.encode(holdoutRows, forKey: .holdoutRows)
        try container.encode(model, forKey: .model)
        try container.encode(reason, forKey: .reason)
        try container.encodeIfPresent(alertID, forKey: .alertID)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(files, forKey: .files)
    }

    /// The message as compact JSON (UTF-8, keys sorted).
    /// - Throws: an `EncodingError` (not expected: every member is a string or a number).
    package func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The Kafka record: key the model name (none when the snapshot is not of one model), value ``json()``,
    /// header `sluice.snapshot_id`.
    package func message(topic: String) throws -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: topic, key: model.name.map { Array($0.utf8) }, value: try json(),
            headers: [KafkaHeader(name: "sluice.snapshot_id", text: snapshotID)])
    }
}
