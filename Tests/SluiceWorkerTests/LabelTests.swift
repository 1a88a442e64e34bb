import Foundation
import SluiceConfiguration
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import SluiceWorker
import Testing

/// The labels side of an environment: its labels topic (one partition, so label order is production order) and
/// the labels' dead-letter topic.
struct LabelTopics {
    let topic: String
    var deadLetters: String { topic + ".dlq" }

    init(_ environment: WorkerEnvironment) async throws {
        topic = environment.labelsTopic
        guard let port = environment.controlPort else {
            throw WorkerError(message: "the label tests need the dev cluster's control port (SLUICE_TEST_KAFKA_CONTROL_PORT)")
        }
        try await DevClusterControl(port: port).createTopic(topic, partitions: 1)
        try await DevClusterControl(port: port).createTopic(deadLetters, partitions: 1)
    }

    func config(_ environment: WorkerEnvironment, labels: String) throws -> SluiceConfig {
        let yaml = environment.yaml + "\nlabels: \(labels)\n"
        return try SluiceConfig.load(yamlText: yaml, environment: [:]).config
    }

    func produce(_ environment: WorkerEnvironment, _ values: [String]) async throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: environment.brokers), logger: WorkerEnvironment.logger)
        _ = try await producer.sendBatch(values.map { KafkaProducerMessage(topic: topic, key: nil, value: Array($0.utf8)) })
        try await producer.close()
    }

    /// The labels group's stored next offset (0 before the first commit).
    func storedOffset(_ environment: WorkerEnvironment, _ connection: PostgresConnection) async throws -> Int64 {
        let rows = try await connection.query("SELECT next_offset FROM \(environment.schema).consumer_offsets WHERE consumer_group = $1 AND topic = $2",
                                              [LabelJoiner.group(of: environment.group), topic])
        return try rows.first?.decode(Int64?.self, column: 0) ?? 0
    }

    func waitUntilCaughtUp(_ environment: WorkerEnvironment, _ connection: PostgresConnection, timeout: Duration = .seconds(120)) async throws {
        let high = try await environment.messageCount(topic, partitions: 1)
        try await waitFor("the label joiner stores offset \(high)", timeout: timeout) {
            try await storedOffset(environment, connection) >= Int64(high)
        }
    }
}

/// A logged prediction and the features it was scored with.
struct LoggedRow: Equatable {
    var predictionID: String
    var eventID: String?
    var entity: String
    var eventTimeMillis: Int64
    var features: [String: FieldValue]
    var modelVersion: Int32?
    var score: Double?
}

func loggedRows(_ environment: WorkerEnvironment, _ connection: PostgresConnection, table: String) async throws -> [String: LoggedRow] {
    let label = table == "labelled" ? ", label, label_offset" : ""
    let rows = try await connection.query("""
        SELECT prediction_id, event_id, entity, event_time, features::text, model_version, score\(label) FROM \(environment.schema).\(table)
        """)
    var result: [String: LoggedRow] = [:]
    for row in rows {
        let id = try row.decode(String.self, column: 0)
        result[id] = LoggedRow(
            predictionID: id, eventID: try row.decode(String?.self, column: 1), entity: try row.decode(String.self, column: 2),
            eventTimeMillis: try row.decode(PostgresTimestamp.self, column: 3).microsecondsSinceUnixEpoch / 1_000,
            features: try WorkerEnvironment.parseFeatures(Array(try row.decode(String.self, column: 4).utf8)),
            modelVersion: try row.decode(Int32?.self, column: 5), score: try row.decode(Double?.self, column: 6))
    }
    return result
}

@Suite("Labels", .serialized, .timeLimit(.minutes(8)))
struct LabelTests {
    /// Labels produced before their predictions exist are retried until the worker logs them, then joined to
    /// the features exactly as they were when each event was scored; malformed, unknown and too-late labels go
    /// to the dead-letter topic with their reason; a correction with a later label time wins, an older one does
    /// not; labels by event id join the newest logged event with that id; and a jump in the error rate fires a
    /// concept-drift alert.
    @Test func labelsJoinPointInTimeRetryDeadLetterAndFeedConceptDrift() async throws {
        let environment = try await WorkerEnvironment(partitions: 2)
        defer { Task { try? await environment.dropSchema() } }
        let labels = try await LabelTopics(environment)
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        // 40 entities over 2,000 events: each entity's features change many times after any one event.
        try await environment.produce(2_000, seed: 5, startMillis: start, entities: 40)
        let high = try await environment.highWatermarks()
        // Phase A: every event of the first half of each partition gets label 1 (the model scores ~0.95: correct).
        var phaseA: [String] = []
        for (partition, count) in high.sorted(by: { $0.key < $1.key }) {
            for offset in 0..<(count / 2) {
                phaseA.append(#"{"prediction_id": "\#(environment.topic)/\#(partition)/\#(offset)", "label": true}"#)
            }
        }
        let malformed = [
            "not json",
            #"{"label": 1}"#,
            #"{"prediction_id": "no-slashes", "label": 1}"#,
            #"{"prediction_id": "\#(environment.topic)/0/0", "label": "yes"}"#,
            #"{"event_id": "e-1", "label": 1, "label_time": "yesterday"}"#,
            #"{"prediction_id": "\#(environment.topic)/9/0", "label": 1}"#,
        ]
        try await labels.produce(environment, phaseA + malformed)

        let setup = try WorkerSetup(config: try labels.config(environment, labels: "{horizon: 3h, retry: {attempts: 120, backoff: 250ms}}"))
        let model = try linearModel(weights: [0, 0, 0, 0], intercept: 3)
        let migrator = try await environment.connect()
        try await FeatureStoreMigrations.migrate(migrator, schema: environment.schema)
        let joinerConnection = try await environment.connect()
        let joiner = try LabelJoiner(setup: setup, connection: joinerConnection, logger: WorkerEnvironment.logger,
                                     monitor: ConceptMonitor(window: 2_000, reportEvery: 200))
        let joining = Task { try await joiner.run() }
        // Nothing is logged yet: every label waits for its prediction.
        try await waitFor("each label looked up once", timeout: .seconds(60)) { joiner.counts.retried >= phaseA.count }
        #expect(joiner.counts.joined == 0)

        let connection = try await environment.connect()
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        worker.setModels(ScoringModels(champion: try ScoringModel(name: "fraud", version: 1, model: model, pipelineFeatures: setup.featureNames)))
        let working = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        try await labels.waitUntilCaughtUp(environment, observer)

        let logged = try await loggedRows(environment, observer, table: "feature_log")
        var labelled = try await loggedRows(environment, observer, table: "labelled")
        let firstHalves = Set(high.flatMap { partition, count in (0..<(count / 2)).map { "\(environment.topic)/\(partition)/\($0)" } })
        let expectedA = firstHalves.intersection(logged.keys)
        #expect(expectedA.count > 900, "most events are valid and scored")
        #expect(Set(labelled.keys) == expectedA, "every label of a logged prediction is joined, and only those")
        for (id, row) in labelled {
            #expect(row == logged[id], "the labelled row of \(id) is the logged prediction as scored")
        }
        // Point in time: the labelled features are the entity's features at its event, not its latest ones.
        let online = try await environment.storedFeatures(observer)
        let stale = labelled.values.filter { online[$0.entity] != $0.features }.count
        #expect(stale > labelled.count / 2, "earlier events' features differ from the entity's current ones")

        // Phase B: the second halves are labelled 0 (the model says ~0.95: every prediction is now wrong), some by
        // event id; plus a correction of an A label with a later label time and a stale one with an earlier time.
        let correctedID = try #require(labelled.keys.sorted().first)
        var phaseB: [String] = []
        var byEvent: [String: String] = [:]
        for (partition, count) in high.sorted(by: { $0.key < $1.key }) {
            for offset in (count / 2)..<count {
                let id = "\(environment.topic)/\(partition)/\(offset)"
                guard logged[id] != nil else { continue }  // the unscored ones' labels are covered by phase A
                if offset % 10 == 0, let eventID = logged[id]?.eventID {
                    byEvent[id] = eventID
                    phaseB.append(#"{"event_id": "\#(eventID)", "label": 0}"#)
                } else {
                    phaseB.append(#"{"prediction_id": "\#(id)", "label": 0}"#)
                }
            }
        }
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        phaseB.append(#"{"prediction_id": "\#(correctedID)", "label": 0, "label_time": \#(now + 60_000)}"#)
        phaseB.append(#"{"prediction_id": "\#(correctedID)", "label": 1, "label_time": \#(now - 60_000)}"#)
        let tooLateID = try #require(labelled.keys.sorted().last)
        phaseB.append(#"{"prediction_id": "\#(tooLateID)", "label": 0, "label_time": "2099-01-01T00:00:00Z"}"#)
        try await labels.produce(environment, phaseB)
        try await labels.waitUntilCaughtUp(environment, observer)
        labelled = try await loggedRows(environment, observer, table: "labelled")
        let expectedB = Set(high.flatMap { partition, count in ((count / 2)..<count).map { "\(environment.topic)/\(partition)/\($0)" } })
            .intersection(logged.keys)
        #expect(Set(labelled.keys) == expectedA.union(expectedB))
        #expect(!byEvent.isEmpty)
        for id in byEvent.keys where logged[id] != nil { #expect(labelled[id] == logged[id], "label by event id joins \(id)") }
        let values = try await observer.query("SELECT prediction_id, label FROM \(environment.schema).labelled")
        var labelOf: [String: Double] = [:]
        for row in values { labelOf[try row.decode(String.self, column: 0)] = try row.decode(Double.self, column: 1) }
        #expect(labelOf[correctedID] == 0, "the later correction wins over the original and over the stale one")
        #expect(expectedA.subtracting([correctedID]).allSatisfy { labelOf[$0] == 1 }, "a label beyond the horizon changes nothing")
        #expect(expectedB.allSatisfy { labelOf[$0] == 0 })

        // Dead letters: every malformed label with its reason and position; labels of events the worker
        // dead-lettered itself (never scored) after their retries.
        let unscored = firstHalves.subtracting(logged.keys)
        let expectedLetters = malformed.count + 1 + unscored.count
        let letters = try await environment.consume(labels.deadLetters, count: expectedLetters)
        var reasons: [String: Int] = [:]
        for letter in letters {
            let headers = Dictionary(letter.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
            reasons[headers["sluice.error.reason"] ?? "?", default: 0] += 1
            #expect(headers["sluice.source.topic"] == labels.topic)
            #expect(headers["sluice.error"]?.isEmpty == false)
        }
        #expect(reasons["invalid_json"] == 1 && reasons["missing_field"] == 1 && reasons["invalid_prediction_id"] == 1)
        #expect(reasons["invalid_label"] == 1 && reasons["invalid_timestamp"] == 1 && reasons["beyond_horizon"] == 1)
        #expect(reasons["prediction_not_found", default: 0] == 1 + unscored.count, "the unknown partition's label and those of unscored events")
        #expect(letters.count == expectedLetters, "nothing dead-lettered twice")

        // Concept drift: the error rate jumped from 0 to 1 → one firing alert for version 1, published and stored.
        let alerts = try await environment.consume(environment.alertsTopic, count: 1)
        let concept = alerts.compactMap { try? JSONDecoder().decode(ConceptAlert.self, from: Data($0.value)) }.filter { $0.kind == "concept_drift" }
        #expect(concept.count == 1 && concept.first?.state == "firing" && concept.first?.model.version == 1 && concept.first?.test == "adwin")
        if let alert = concept.first { #expect(alert.statistic > alert.threshold, "the error went up: \(alert.statistic) vs \(alert.threshold)") }
        let stored = try await observer.query("SELECT count(*) FROM \(environment.schema).drift_alerts WHERE kind = 'concept_drift' AND state = 'firing'")
        #expect(try stored.first?.decode(Int64.self, column: 0) == 1)
        let reports = try await observer.query("SELECT count(*), max(labelled) FROM \(environment.schema).performance_reports WHERE model_version = 1")
        #expect(try reports.first?.decode(Int64.self, column: 0) ?? 0 >= 5, "a performance report every 200 labels")

        await worker.stop()
        try await working.value
        await joiner.stop()
        try await joining.value
        for c in [migrator, joinerConnection, connection, reader, observer] { await c.close() }
    }

    /// A joiner stopped part-way resumes from the offsets it stored with its joins: the second one reads only
    /// what the first had not settled, and the labelled rows equal those of one uninterrupted run.
    @Test func aRestartedJoinerResumesFromItsStoredOffsets() async throws {
        let environment = try await WorkerEnvironment(partitions: 2)
        defer { Task { try? await environment.dropSchema() } }
        let labels = try await LabelTopics(environment)
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(1_000, seed: 9, startMillis: start, entities: 100)
        let setup = try WorkerSetup(config: try labels.config(environment, labels: "{horizon: 3h, retry: {attempts: 2, backoff: 100ms}}"))
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        worker.setModels(ScoringModels(champion: try ScoringModel(name: "fraud", version: 1, model: try linearModel(weights: [0.01, 0, 0, 0], intercept: -1),
                                                                  pipelineFeatures: setup.featureNames)))
        let working = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        await worker.stop()
        try await working.value
        let logged = try await loggedRows(environment, observer, table: "feature_log")
        let ids = logged.keys.sorted()
        try await labels.produce(environment, ids.enumerated().map { i, id in #"{"prediction_id": "\#(id)", "label": \#(i % 3 == 0 ? 1 : 0)}"# })

        let firstConnection = try await environment.connect()
        let first = try LabelJoiner(setup: setup, connection: firstConnection, logger: WorkerEnvironment.logger)
        let running = Task { try await first.run() }
        try await waitFor("some labels joined", timeout: .seconds(60)) { try await labels.storedOffset(environment, observer) > 0 }
        await first.stop()
        try await running.value
        let settled = try await labels.storedOffset(environment, observer)
        let afterFirst = try await loggedRows(environment, observer, table: "labelled").count

        let secondConnection = try await environment.connect()
        let second = try LabelJoiner(setup: setup, connection: secondConnection, logger: WorkerEnvironment.logger)
        let resumed = Task { try await second.run() }
        try await labels.waitUntilCaughtUp(environment, observer)
        await second.stop()
        try await resumed.value
        #expect(second.counts.consumed == ids.count - Int(settled), "the second joiner reads only from the stored offset \(settled)")
        #expect(afterFirst >= Int(settled))
        let labelled = try await loggedRows(environment, observer, table: "labelled")
        #expect(Set(labelled.keys) == Set(ids))
        for (id, row) in labelled { #expect(row == logged[id]) }
        let values = try await observer.query("SELECT prediction_id, label FROM \(environment.schema).labelled")
        for row in values {
            let id = try row.decode(String.self, column: 0)
            let index = try #require(ids.firstIndex(of: id))
            #expect(try row.decode(Double.self, column: 1) == (index % 3 == 0 ? 1 : 0))
        }
        for c in [connection, reader, observer, firstConnection, secondConnection] { await c.close() }
    }
}

/// A drift alert as a subscriber reads it.
struct ConceptAlert: Decodable {
    struct ModelRef: Decodable { var name: String; var version: Int }
    var alert_id: String
    var kind: String
    var state: String
    var severity: String
    var model: ModelRef
    var test: String
    var statistic: Double
    var threshold: Double
}
