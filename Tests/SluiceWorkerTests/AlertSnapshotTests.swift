import Foundation
import Logging
import SluiceConfiguration
import SluiceFeatureStore
import SluiceKafka
import SluicePostgres
import SluiceSnapshots
import SluiceWorker
import Testing

@Suite("Snapshots on drift alerts", .serialized, .timeLimit(.minutes(5)))
struct AlertSnapshotTests {
    /// Labelled rows of two models, written as the label joiner writes them.
    private func insertLabelled(_ environment: WorkerEnvironment, _ connection: PostgresConnection, startMillis: Int64) async throws {
        var ids: [String] = [], entities: [String] = [], times: [PostgresTimestamp] = [], models: [String] = [], scores: [Double] = []
        var features: [String] = [], labels: [Double] = []
        for i in 0..<400 {
            ids.append("events/0/\(i)")
            entities.append("u-\(i % 37)")
            times.append(PostgresTimestamp(millisecondsSinceUnixEpoch: startMillis + Int64(i) * 1_000))
            models.append(i % 4 == 0 ? "other" : "fraud")
            scores.append(Double(i % 10) / 10)
            features.append(#"{"amount": \#(Double(i) * 1.5), "country": "DE"}"#)
            labels.append(Double(i % 2))
        }
        try await connection.execute("""
            INSERT INTO \(environment.schema).labelled (prediction_id, entity, event_time, model_name, model_version, score, features, label,
                                                       label_time, label_topic, label_partition, label_offset)
            SELECT id, e, t, m, 1, s, f::json, l, t + interval '1 hour', 'labels', 0, o
            FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::float8[], $6::text[], $7::float8[])
                 WITH ORDINALITY AS u(id, e, t, m, s, f, l, o)
            """, [ids, entities, times, models, scores, features, labels])
    }

    /// Three alerts of one model within the cooldown take one snapshot (of the first alert, from its window start);
    /// another model's alert takes its own; each snapshot's retrain request reaches the topic; without a cooldown
    /// every alert takes one.
    @Test func oneSnapshotPerModelWithinTheCooldownEachWithItsRetrainRequest() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 86_400_000
        try await insertLabelled(environment, connection, startMillis: start)
        let topic = "retrain-\(environment.id)"
        try await DevClusterControl(port: try #require(environment.controlPort)).createTopic(topic, partitions: 1)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("alert-snapshots-\(environment.id)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }

        func alertSnapshots(cooldown: Duration) async throws -> (AlertSnapshots, PostgresConnection) {
            var settings = SnapshotsConfig()
            settings.directory = directory
            settings.cooldown = cooldown
            let exporterConnection = try await environment.connect()
            let service = SnapshotService(
                exporter: try SnapshotExporter(connection: exporterConnection, schema: environment.schema, logger: WorkerEnvironment.logger),
                producer: try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: environment.brokers), logger: WorkerEnvironment.logger),
                topic: topic, logger: WorkerEnvironment.logger)
            return (AlertSnapshots(service: service, settings: settings, logger: WorkerEnvironment.logger), exporterConnection)
        }

        let (withCooldown, first) = try await alertSnapshots(cooldown: .seconds(3_600))
        await withCooldown.alertFired(alertID: "alert-1", modelName: "fraud", windowStartMillis: start + 200_000)
        await withCooldown.alertFired(alertID: "alert-2", modelName: "fraud", windowStartMillis: start)
        await withCooldown.alertFired(alertID: "alert-3", modelName: "other", windowStartMillis: nil)
        await withCooldown.alertFired(alertID: "alert-4", modelName: "fraud", windowStartMillis: start)
        await withCooldown.settle()
        #expect(await withCooldown.taken.count == 2)
        #expect(await withCooldown.skipped == 2)
        let rows = try await connection.query("SELECT alert_id, model_name, rows, reason FROM \(environment.schema).snapshots ORDER BY alert_id")
        let snapshots = try rows.map { (try $0.decode(String?.self, column: 0), try $0.decode(String?.self, column: 1), try $0.decode(Int64.self, column: 2), try $0.decode(String.self, column: 3)) }
        #expect(snapshots.map(\.0) == ["alert-1", "alert-3"])
        #expect(snapshots.map(\.1) == ["fraud", "other"])
        // fraud rows from the window start (event 200 on): 150 of the 200; all 100 rows of "other".
        #expect(snapshots.map(\.2) == [150, 100])
        #expect(snapshots.allSatisfy { $0.3 == "alert" })

        let (noCooldown, second) = try await alertSnapshots(cooldown: .zero)
        await noCooldown.alertFired(alertID: "alert-5", modelName: "fraud", windowStartMillis: nil)
        await noCooldown.alertFired(alertID: "alert-6", modelName: "fraud", windowStartMillis: nil)
        await noCooldown.settle()
        #expect(await noCooldown.taken.count == 2)
        // A scheduled snapshot: the model's rows of the last period (events 300…399 are the last 100 s; 75 are fraud's).
        await noCooldown.scheduled(modelName: "fraud", periodMillis: 100_000, nowMillis: start + 400_000)
        await noCooldown.settle()
        let scheduled = try await connection.query("SELECT rows, alert_id FROM \(environment.schema).snapshots WHERE reason = 'schedule'")
        #expect(scheduled.count == 1)
        #expect(try scheduled.first?.decode(Int64.self, column: 0) == 75)
        #expect(try scheduled.first?.decode(String?.self, column: 1) == nil)

        let requests = try await environment.consume(topic, count: 5)
        struct Request: Decodable { var snapshot_id: String; var reason: String; var alert_id: String?; var rows: Int64 }
        let decoded = try requests.map { try JSONDecoder().decode(Request.self, from: Data($0.value)) }
        #expect(Set(decoded.compactMap(\.alert_id)) == ["alert-1", "alert-3", "alert-5", "alert-6"])
        #expect(decoded.filter { $0.reason == "alert" }.count == 4 && decoded.filter { $0.reason == "schedule" }.count == 1)
        let taken = await withCooldown.taken + noCooldown.taken
        #expect(Set(decoded.map(\.snapshot_id)) == Set(taken))
        for c in [connection, first, second] { await c.close() }
    }
}
