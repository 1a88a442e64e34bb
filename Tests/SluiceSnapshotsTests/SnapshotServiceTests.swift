import Foundation
import SluiceKafka
import SluicePostgres
import SluiceSnapshots
import SluiceTestSupport
import Testing

@Suite("Snapshot service: export, then the retrain request on a real Kafka topic",
       .enabled(if: SnapshotTestEnvironment.postgresEnabled, SnapshotTestEnvironment.postgresDisabledReason),
       .timeLimit(.minutes(3)))
struct SnapshotServiceTests {
    @Test func retrainRequestIsPublishedAfterTheSnapshotCommitsAndConsumedBack() async throws {
        try await ScratchStore.with { store in
            try await store.insert((0..<50).map { index in
                LabelledRow(predictionID: "p\(index)", entity: "e\(index)", eventTimeMillis: january1 + Int64(index),
                            modelName: "fraud", modelVersion: 3, features: #"{"amount": \#(index)}"#)
            })
            let topic = TestKafka.uniqueTopic("retrain-requests")
            try await TestKafka.createTopic(topic, partitions: 2)
            let producer = try TestKafka.producer()
            let service = SnapshotService(exporter: try store.exporter(), producer: producer, topic: topic)
            var request = store.request()
            request.reason = .alert
            request.alertID = "fraud/amount/ks/1"
            request.modelName = "fraud"
            let publication = try await service.createSnapshot(request)
            guard case .delivered(let report) = publication.outcome else {
                Issue.record("expected the retrain request to be delivered, got \(publication.outcome)")
                return
            }
            #expect(report.topic == topic)
            try await producer.close()

            let consumer = try TestKafka.consumer(group: "g-\(topic)")
            try consumer.subscribe(topics: [topic])
            let messages = try await consume(consumer, count: 1)
            await consumer.close()
            let message = try #require(messages.first)
            #expect(messages.count == 1)
            #expect(message.key.map { Array($0) } == Array("fraud".utf8), "keyed by model name")
            #expect(message.headers.first { $0.name == "sluice.snapshot_id" }?.value == Array(publication.snapshot.snapshotID.utf8))

            let json = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
            let snapshot = publication.snapshot
            #expect(json["snapshot_id"] as? String == snapshot.snapshotID)
            #expect(json["uri"] as? String == "file://\(snapshot.directory)/")
            #expect(json["rows"] as? Int == 50)
            #expect(json["holdout_rows"] as? Int == Int(snapshot.manifest.holdoutRows))
            #expect((json["model"] as? [String: Any])?["name"] as? String == "fraud")
            #expect((json["model"] as? [String: Any])?["version"] as? Int == 3)
            #expect(json["reason"] as? String == "alert")
            #expect(json["alert_id"] as? String == "fraud/amount/ks/1")
            #expect(json["created_at"] as? String == snapshot.manifest.createdAt)
            #expect(json["files"] as? [String: String] == ["parquet": "data.parquet", "csv": "data.csv", "manifest": "manifest.json"])
            #expect(Set(json.keys) == ["snapshot_id", "uri", "rows", "holdout_rows", "model", "reason", "alert_id", "created_at", "files"])

            // What the message points at exists: the committed row and the files.
            let row = try #require(try await store.connection.query(
                "SELECT reason, alert_id FROM \(store.schema).snapshots WHERE snapshot_id = $1", [snapshot.snapshotID]).first)
            #expect(try row.decode(String.self, column: 0) == "alert")
            #expect(try row.decode(String.self, column: 1) == "fraud/amount/ks/1")
            #expect(FileManager.default.fileExists(atPath: snapshot.parquetPath))
        }
    }

    @Test func failedPublishIsReportedAndTheSnapshotStays() async throws {
        try await ScratchStore.with { store in
            try await store.insert([LabelledRow(predictionID: "p", entity: "e", eventTimeMillis: january1, features: #"{"x": 1}"#)])
            let producer = try TestKafka.producer()
            try await producer.close()  // every send now fails
            let service = SnapshotService(exporter: try store.exporter(), producer: producer, topic: "retrain-requests")
            let publication = try await service.createSnapshot(store.request())
            guard case .failed(let error) = publication.outcome else {
                Issue.record("expected the publish to fail, got \(publication.outcome)")
                return
            }
            #expect("\(error)".contains("closed"))
            #expect(store.directoryEntries() == [publication.snapshot.snapshotID])
            let count = try #require(try await store.connection.query("SELECT count(*) FROM \(store.schema).snapshots").first)
            #expect(try count.decode(Int64.self, column: 0) == 1)

            // Without a producer nothing is attempted.
            let quiet = SnapshotService(exporter: try store.exporter(), producer: nil, topic: "retrain-requests")
            let skipped = try await quiet.createSnapshot(store.request())
            guard case .skipped = skipped.outcome else {
                Issue.record("expected no publish without a producer")
                return
            }
        }
    }
}
