import Logging
import Metrics
import SluiceKafka

/// Takes a snapshot and announces it on the retrain-requests topic.
///
/// The request is produced only after the snapshot's files are published and its `snapshots` row committed, so
/// a training job never hears of a snapshot that is not there. A failed publish does not undo the snapshot: the
/// outcome says it failed, and the request can be sent again (consumers de-duplicate by `snapshot_id`).
package struct SnapshotService: Sendable {
    package let exporter: SnapshotExporter
    /// The producer for retrain requests; nil exports without publishing.
    package let producer: KafkaProducer?
    /// The retrain-requests topic (`outputs.retrain_topic`).
    package let topic: String
    private let logger: Logger
    /// Metric names (Prometheus): snapshots taken by reason, and rows exported.
    package static let snapshotsMetric = "sluice_snapshots_total"
    package static let rowsMetric = "sluice_snapshot_rows_total"

    package init(exporter: SnapshotExporter, producer: KafkaProducer?, topic: String,
                 logger: Logger = Logger(label: "sluice.snapshots")) {
        self.exporter = exporter
        self.producer = producer
        self.topic = topic
        self.logger = logger
    }

    /// Exports the snapshot `request` selects, then publishes its retrain request.
    /// - Returns: the snapshot and the publish outcome (`.failed` when producing failed; the snapshot stays).
    /// - Throws: what ``SnapshotExporter/export(_:)`` throws; nothing is published then.
    package func createSnapshot(_ request: SnapshotRequest) async throws -> SnapshotPublication {
        let snapshot = try await exporter.export(request)
        Counter(label: Self.snapshotsMetric, dimensions: [("reason", request.reason.rawValue)]).increment()
        Counter(label: Self.rowsMetric).increment(by: Int(clamping: snapshot.manifest.rows))
        let retrain = RetrainRequest(snapshot: snapshot)
        guard let producer else {
            return SnapshotPublication(snapshot: snapshot, retrainRequest: retrain, outcome: .skipped)
        }
        do {
            let report = try await producer.send(try retrain.message(topic: topic))
            logger.info("retrain request published", metadata: [
                "snapshot_id": "\(snapshot.snapshotID)", "topic": "\(report.topic)", "partition": "\(report.partition)",
                "offset": "\(report.offset)",
            ])
            return SnapshotPublication(snapshot: snapshot, retrainRequest: retrain, outcome: .delivered(report))
        } catch {
            logger.error("retrain request not published; the snapshot stands", metadata: [
                "snapshot_id": "\(snapshot.snapshotID)", "topic": "\(topic)", "error": "\(error)",
            ])
            return SnapshotPublication(snapshot: snapshot, retrainRequest: retrain, outcome: .failed(error))
        }
    }
}
