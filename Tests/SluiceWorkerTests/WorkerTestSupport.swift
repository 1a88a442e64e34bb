import Foundation
import Logging
import SluiceConfiguration
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import SluiceRegistry
import SluiceWorker
import Synchronization
import Testing

/// One isolated worker environment per test: its own topic, dead-letter topic, consumer group and PostgreSQL
/// schema, on the PostgreSQL and Kafka dev cluster that `scripts/test` starts.
struct WorkerEnvironment {
    let id: String
    let topic: String
    let partitions: Int
    let group: String
    let schema: String
    let brokers: String
    let postgresURL: String
    let controlPort: UInt16?
    /// A dev cluster of the test's own (fault injection would disturb the tests sharing the common one).
    let privateCluster: DevCluster?

    static let logger: Logger = {
        var logger = Logger(label: "sluice.tests.worker")
        logger.logLevel = .critical
        return logger
    }()

    /// - Parameters:
    ///   - cluster: a dev cluster of the test's own, instead of the one `scripts/test` starts.
    ///   - postgresURL: a PostgreSQL server of the test's own, instead of the one `scripts/test` starts.
    init(partitions: Int = 4, cluster: DevCluster? = nil, postgresURL: String? = nil) async throws {
        let environment = ProcessInfo.processInfo.environment
        let id = UUID().uuidString.prefix(8).lowercased()
        self.id = String(id)
        self.topic = "events-\(id)"
        self.partitions = partitions
        self.group = "worker-\(id)"
        self.schema = "t_\(id)"
        self.privateCluster = cluster
        guard let url = postgresURL ?? environment["SLUICE_TEST_POSTGRES_URL"] else {
            throw WorkerError(message: "SLUICE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
        }
        self.postgresURL = url
        if let cluster {
            self.brokers = cluster.bootstrapServers
            self.controlPort = nil
        } else if let brokers = environment["SLUICE_TEST_KAFKA_BROKERS"] {
            self.brokers = brokers
            self.controlPort = environment["SLUICE_TEST_KAFKA_CONTROL_PORT"].flatMap(UInt16.init)
        } else {
            let cluster = try Self.sharedCluster.get()
            self.brokers = cluster.bootstrapServers
            self.controlPort = nil
        }
        try await createTopic(topic, partitions: partitions)
        try await createTopic(topic + ".dlq", partitions: 1)
        try await createTopic(predictionsTopic, partitions: 2)
        try await createTopic(alertsTopic, partitions: 1)
    }

    /// The topics this environment's worker publishes predictions and drift alerts to.
    var predictionsTopic: String { "predictions-\(id)" }
    var alertsTopic: String { "alerts-\(id)" }
    /// The labels topic the worker's label joiner reads: this environment's own, never another test's or the demo's
    /// (created by the tests that send labels, `LabelTopics`).
    var labelsTopic: String { "labels-\(id)" }

    private static let sharedCluster = Result { try DevCluster(brokers: 1, logger: logger) }

    private func createTopic(_ name: String, partitions: Int) async throws {
        if let privateCluster {
            try privateCluster.createTopic(name, partitions: partitions)
        } else if let controlPort {
            try await DevClusterControl(port: controlPort).createTopic(name, partitions: partitions)
        } else {
            try Self.sharedCluster.get().createTopic(name, partitions: partitions)
        }
    }

    /// The example config's ten features.
    static let exampleFeatures = """
          - {name: amount, value: amount}
          - {name: txn_count_1h, aggregate: count, window: 1h}
          - {name: txn_count_24h, aggregate: count, window: 24h}
          - {name: amount_sum_1h, aggregate: sum, of: amount, window: 1h}
          - {name: amount_mean_24h, aggregate: mean, of: amount, window: 24h}
          - {name: amount_max_24h, aggregate: max, of: amount, window: 24h}
          - {name: amount_std_7d, aggregate: stddev, of: amount, window: 7d}
          - {name: merchants_7d, aggregate: approx_distinct, of: merchant, window: 7d}
          - {name: last_country, aggregate: last, of: country}
          - {name: secs_since_last, aggregate: time_since_last}
        """

    /// The worker configuration: the example config's source and features, pointed at this environment.
    var yaml: String { yaml() }

    /// - Parameter http: the `http:` section (by default a free port, so several workers can run at once).
    /// - Parameter logLevel: `logging.level` (`info` logs the HTTP port a `sluice run` process listens on).
    func yaml(features: String = exampleFeatures, http: String = #"{address: "127.0.0.1:0"}"#, logLevel: String = "error") -> String {
        """
        kafka:
          brokers: "\(brokers)"
          group: \(group)
          consumer: {session_timeout: 6s, poll_batch_size: 500}
        postgres:
          url: "\(postgresURL)"
          schema: \(schema)
        source:
          topics: [\(topic)]
          entity: user_id
          event_time: ts
          event_id: event_id
          allowed_lateness: 1s
          max_payload_bytes: 100KiB
          fields: {amount: double, merchant: string, country: string, channel: string?, card_present: bool?}
        features:
        \(features)
        flush: {max_events: 2000, max_interval: 200ms}
        outputs: {predictions_topic: \(predictionsTopic), alerts_topic: \(alertsTopic), labels_topic: \(labelsTopic)}
        http: \(http)
        logging: {level: \(logLevel)}
        """
    }

    func config(extra: String = "") throws -> SluiceConfig {
        try SluiceConfig.load(yamlText: yaml + "\n" + extra, environment: [:]).config
    }

    /// The number of messages a topic holds (the sum of its partitions' high watermarks).
    func messageCount(_ topic: String, partitions: Int) async throws -> Int {
        let admin = try KafkaAdmin(bootstrapServers: brokers, logger: Self.logger)
        var total: Int64 = 0
        for partition in 0..<partitions {
            total += try await admin.watermarks(KafkaTopicPartition(topic: topic, partition: Int32(partition))).high
        }
        return Int(total)
    }

    /// Reads a topic from the beginning until `count` messages have arrived (or the deadline passes).
    func consume(_ topic: String, count: Int, timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: "read-\(UUID().uuidString.prefix(8))"), logger: Self.logger)
        try consumer.subscribe(topics: [topic])
        let collected = Mutex<[KafkaMessage]>([])
        let reading = Task {
            for await event in consumer.events {
                switch event {
                case .messages(let batch): collected.withLock { $0 += batch }
                case .partitionsAssigned(let assignment): assignment.start()
                case .partitionsRevoked(let revocation): revocation.done()
                case .error, .idle: break
                }
                if collected.withLock({ $0.count }) >= count { break }
            }
        }
        defer { reading.cancel() }
        try await waitFor("\(count) messages on \(topic)", timeout: timeout) { collected.withLock { $0.count } >= count }
        await consumer.close()
        _ = await reading.value
        return collected.withLock { $0 }
    }

    /// Produces demo events keyed by entity; about 1 in 200 is malformed or late.
    func produce(_ count: Int, seed: UInt64, startMillis: Int64, entities: Int = 2_000) async throws {
        var options = DemoEventGenerator.Options()
        options.seed = seed
        options.entityCount = entities
        options.startMillis = startMillis
        options.stepMillis = 50
        options.jitterMillis = 400
        options.malformedFraction = 0.005
        options.oversizedPayloadBytes = 150_000
        options.lateByMillis = 60_000
        var generator = DemoEventGenerator(options: options)
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 100 * 1_024))
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers), logger: Self.logger)
        var messages: [KafkaProducerMessage] = []
        var buffer: [UInt8] = []
        var event = DecodedEvent()
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        for _ in 0..<count {
            buffer.removeAll(keepingCapacity: true)
            _ = generator.next(into: &buffer)
            let error = buffer.withUnsafeBytes { decoder.decode($0, nowMillis: now, into: &event) }
            messages.append(KafkaProducerMessage(topic: topic, key: error == nil ? Array(event.entityID.utf8) : Array("bad".utf8), value: buffer))
        }
        _ = try await producer.sendBatch(messages)
        try await producer.close()
    }

    /// Sum of the partitions' high watermarks.
    func highWatermarks() async throws -> [Int32: Int64] {
        let admin = try KafkaAdmin(bootstrapServers: brokers, logger: Self.logger)
        var result: [Int32: Int64] = [:]
        for partition in 0..<partitions {
            result[Int32(partition)] = try await admin.watermarks(KafkaTopicPartition(topic: topic, partition: Int32(partition))).high
        }
        return result
    }

    func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(url: postgresURL, logger: Self.logger)
    }

    /// The next offsets stored in PostgreSQL per partition (empty before the schema exists).
    func storedOffsets(_ connection: PostgresConnection) async throws -> [Int32: Int64] {
        let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL", ["\(schema).consumer_offsets"]).first!.decode(Bool.self, column: 0)
        guard exists else { return [:] }
        let rows = try await connection.query("SELECT partition, next_offset FROM \(schema).consumer_offsets WHERE consumer_group = $1 AND topic = $2", [group, topic])
        var result: [Int32: Int64] = [:]
        for row in rows { result[try row.decode(Int32.self, column: 0)] = try row.decode(Int64?.self, column: 1) ?? 0 }
        return result
    }

    /// Migrates the schema, runs an in-process worker with `config` until its stored offsets reach the topic's end,
    /// and stops it. Returns the worker (for its counts) and an observer connection.
    func runWorkerUntilCaughtUp(config: SluiceConfig, timeout: Duration = .seconds(60)) async throws -> (worker: Worker, observer: PostgresConnection) {
        let connection = try await connect()
        try await FeatureStoreMigrations.migrate(connection, schema: schema)
        let worker = try Worker(setup: try WorkerSetup(config: config), connection: connection, reader: try await connect(), logger: Self.logger)
        let running = Task { try await worker.run() }
        let observer = try await connect()
        try await waitUntilCaughtUp(observer, timeout: timeout)
        await worker.stop()
        try await running.value
        return (worker, observer)
    }

    /// Waits until PostgreSQL's stored offsets reach the topic's high watermarks.
    func waitUntilCaughtUp(_ connection: PostgresConnection, timeout: Duration = .seconds(120)) async throws {
        let target = try await highWatermarks()
        try await waitFor("the worker stores offsets \(target)", timeout: timeout) {
            let stored = try await storedOffsets(connection)
            return target.allSatisfy { (stored[$0.key] ?? 0) >= $0.value }
        }
    }

    /// The sum of the stored next offsets: it grows whenever a micro-batch commits.
    func committedEvents(_ connection: PostgresConnection) async throws -> Int64 {
        try await storedOffsets(connection).values.reduce(0, +)
    }

    /// Online features per entity as stored.
    func storedFeatures(_ connection: PostgresConnection) async throws -> [String: [String: FieldValue]] {
        let rows = try await connection.query("SELECT entity, features::text FROM \(schema).entities")
        var result: [String: [String: FieldValue]] = [:]
        for row in rows {
            let json = Array(try row.decode(String.self, column: 1).utf8)
            result[try row.decode(String.self, column: 0)] = try Self.parseFeatures(json)
        }
        return result
    }

    /// Parses a features object with JSONDecoder (correctly rounded, unlike JSONSerialization on Linux).
    static func parseFeatures(_ bytes: [UInt8]) throws -> [String: FieldValue] {
        try JSONDecoder().decode([String: JSONFeature].self, from: Data(bytes)).mapValues(\.value)
    }

    func dropSchema() async throws {
        let connection = try await connect()
        try await connection.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
        await connection.close()
    }
}

/// Polls `condition` until it holds; records an issue naming `what` and throws when `timeout` passes first.
func waitFor(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(timeout) waiting until \(what)")
    throw CancellationError()
}

/// The features every entity must end with, computed straight from the topic: each partition's events in
/// offset order through the same decoder, lateness rule and feature engine, without Kafka groups, micro-batches,
/// PostgreSQL or restarts.
struct ReferenceRun {
    var features: [String: [String: FieldValue]] = [:]
    var processed = 0
    var deadLettered = 0
    var processedOffsets: Set<String> = []

    static func compute(_ environment: WorkerEnvironment, setup: WorkerSetup) async throws -> ReferenceRun {
        let target = try await environment.highWatermarks()
        let total = Int(target.values.reduce(0, +))
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: environment.brokers, groupID: "reference-\(environment.id)"), logger: WorkerEnvironment.logger)
        try consumer.subscribe(topics: [environment.topic])
        var messages: [KafkaMessage] = []
        for await event in consumer.events {
            switch event {
            case .messages(let batch): messages += batch
            case .partitionsAssigned(let assignment): assignment.start()
            case .partitionsRevoked(let revocation): revocation.done()
            case .error, .idle: break
            }
            if messages.count >= total { break }
        }
        await consumer.close()

        var run = ReferenceRun()
        let decoder = setup.decoder
        let engine = setup.engine
        var states: [String: EntityState] = [:]
        var output: [FieldValue] = []
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let lateness = setup.allowedLatenessMillis
        for partition in 0..<Int32(environment.partitions) {
            var tracker = LatenessTracker()
            var event = DecodedEvent()
            for message in messages.filter({ $0.partition == partition }).sorted(by: { $0.offset < $1.offset }) {
                if message.withUnsafeValue({ decoder.decode($0, nowMillis: now, into: &event) }) != nil
                    || tracker.isLate(event.eventTimeMillis, allowedLatenessMillis: lateness) {
                    run.deadLettered += 1
                    continue
                }
                tracker.observe(event.eventTimeMillis)
                engine.apply(event, to: &states[event.entityID, default: engine.makeState()], output: &output)
                run.processed += 1
                run.processedOffsets.insert("\(partition)/\(message.offset)")
            }
        }
        for (entity, state) in states {
            engine.values(of: state, asOf: state.latestEventTimeMillis, output: &output)
            var values: [String: FieldValue] = [:]
            for (name, value) in zip(setup.featureNames, output) {
                switch value {
                case .int(let v): values[name] = .double(Double(v))
                case .bool(let v): values[name] = .double(v ? 1 : 0)
                default: values[name] = value
                }
            }
            run.features[entity] = values
        }
        return run
    }
}

/// A feature value as JSON: a number, a string or null.
struct JSONFeature: Decodable {
    var value: FieldValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let number = try? container.decode(Double.self) {
            value = .double(number)
        } else {
            value = .string(try container.decode(String.self))
        }
    }
}

/// What a run delivered, judged against the reference computed from the topic.
struct DeliveryOutcome {
    /// Messages in the input topic (processed and dead-lettered).
    var events = 0
    /// Events the reference processes (the rest are dead-lettered).
    var processed = 0
    /// Processed offsets without a feature-log row, plus expected prediction ids never published.
    var lost = 0
    /// Feature-log rows beyond one per processed offset (exactly-once: must be 0).
    var duplicateLogRows = 0
    /// Prediction messages beyond one per prediction id (at-least-once: replays after a crash or a fenced batch).
    var duplicatePredictions = 0
}

extension WorkerEnvironment {
    /// Registers the linear test model as the production version of `default`, so every event is also scored and
    /// published before its transaction commits.
    func registerProductionModel(_ connection: PostgresConnection) async throws {
        try await FeatureStoreMigrations.migrate(connection, schema: schema)
        let registry = try ModelRegistry(connection: connection, schema: schema, logger: Self.logger)
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: [0.004, 0.3, -0.2, -0.0001], intercept: -1.5), format: nil,
                                        stage: .production, pipelineFeatures: try WorkerSetup(config: try config()).featureNames)
    }

    /// The store equals the reference computed from the topic; every processed offset has exactly one
    /// feature-log row; with `predictions`, every processed event's prediction id was published (replays only with
    /// the same id and score) and nothing else was. Returns the counts for a report.
    @discardableResult
    func expectStoreMatchesReference(_ observer: PostgresConnection, after what: String, predictions: Bool = true) async throws -> DeliveryOutcome {
        let setup = try WorkerSetup(config: try config())
        let reference = try await ReferenceRun.compute(self, setup: setup)
        var outcome = DeliveryOutcome(events: reference.processed + reference.deadLettered, processed: reference.processed)
        let stored = try await storedFeatures(observer)
        #expect(stored.count == reference.features.count, "entities after \(what)")
        var mismatches = 0
        for (entity, expected) in reference.features where stored[entity] != expected {
            mismatches += 1
            if mismatches <= 3 { Issue.record("entity \(entity): stored \(String(describing: stored[entity])), expected \(expected) after \(what)") }
        }
        #expect(mismatches == 0, "every entity equals the reference after \(what)")
        let logRows = try await observer.query("SELECT source_partition, source_offset FROM \(schema).feature_log")
        let logged = try logRows.map { "\(try $0.decode(Int32.self, column: 0))/\(try $0.decode(Int64.self, column: 1))" }
        outcome.duplicateLogRows = logged.count - Set(logged).count
        outcome.lost = reference.processedOffsets.subtracting(logged).count
        #expect(logged.count == reference.processed, "no duplicate log rows after \(what)")
        #expect(Set(logged) == reference.processedOffsets, "no lost log rows after \(what)")
        guard predictions else { return outcome }

        let logPredictions = try await loggedPredictions(self, observer)
        #expect(logPredictions.count == reference.processed)
        let published = try await consume(predictionsTopic, count: try await messageCount(predictionsTopic, partitions: 2))
        var scores: [String: Double] = [:]
        var changedScores = 0
        for message in published {
            let prediction = try JSONDecoder().decode(PredictionMessage.self, from: Data(message.value))
            if let earlier = scores[prediction.prediction_id], earlier != prediction.score {
                changedScores += 1
                if changedScores <= 3 { Issue.record("prediction \(prediction.prediction_id) published with score \(earlier), then \(prediction.score)") }
            }
            scores[prediction.prediction_id] = prediction.score
        }
        #expect(changedScores == 0, "a replayed prediction has the same id and score after \(what)")
        outcome.duplicatePredictions = published.count - scores.count
        let expected = Set(reference.processedOffsets.map { "\(topic)/\($0)" })
        outcome.lost += expected.subtracting(scores.keys).count
        #expect(Set(scores.keys) == expected, "every expected prediction id published, and no other, after \(what)")
        let differing = logPredictions.filter { scores[$0.key] != $0.value.score }
        for (id, logged) in differing.prefix(3) {
            Issue.record("prediction \(id): published \(String(describing: scores[id])), logged \(logged.score)")
        }
        #expect(differing.isEmpty, "the published scores are the logged ones after \(what)")
        return outcome
    }

    /// The sum of the partitions' ownership epochs: it grows by one per partition a worker claims.
    func epochSum(_ connection: PostgresConnection) async throws -> Int64 {
        guard try await hasOffsetsTable(connection) else { return 0 }
        return try await connection.query("SELECT coalesce(sum(epoch), 0)::int8 FROM \(schema).consumer_offsets WHERE consumer_group = $1", [group])
            .first!.decode(Int64.self, column: 0)
    }

    /// The owner (`host/pid/nonce`), epoch and next offset of each claimed partition.
    func claims(_ connection: PostgresConnection) async throws -> [Int32: (owner: String, epoch: Int64, nextOffset: Int64)] {
        guard try await hasOffsetsTable(connection) else { return [:] }
        let rows = try await connection.query("SELECT partition, owner, epoch::int8, next_offset FROM \(schema).consumer_offsets WHERE consumer_group = $1 AND topic = $2",
                                              [group, topic])
        var result: [Int32: (owner: String, epoch: Int64, nextOffset: Int64)] = [:]
        for row in rows {
            result[try row.decode(Int32.self, column: 0)] = (try row.decode(String?.self, column: 1) ?? "", try row.decode(Int64.self, column: 2),
                                                            try row.decode(Int64?.self, column: 3) ?? 0)
        }
        return result
    }

    /// Waits until the partitions' claims name `count` different owners.
    func waitForOwners(_ connection: PostgresConnection, count: Int, timeout: Duration = .seconds(60)) async throws {
        try await waitFor("the partitions are claimed by \(count) workers", timeout: timeout) {
            Set(try await claims(connection).values.map(\.owner)).count >= count
        }
    }

    private func hasOffsetsTable(_ connection: PostgresConnection) async throws -> Bool {
        try await connection.query("SELECT to_regclass($1) IS NOT NULL", ["\(schema).consumer_offsets"]).first!.decode(Bool.self, column: 0)
    }
}
