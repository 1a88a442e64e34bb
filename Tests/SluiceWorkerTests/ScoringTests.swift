import Foundation
import SluiceFeatureStore
import SluiceFeatures
import SluiceInference
import SluiceKafka
import SluicePostgres
import SluiceRegistry
import SluiceWorker
import Testing

/// A prediction message as consumers read it (the contract of DESIGN.md).
struct PredictionMessage: Decodable {
    struct ModelRef: Decodable { var name: String; var version: Int }
    struct Contribution: Decodable { var feature: String; var contribution: Double }
    struct Challenger: Decodable { var name: String; var version: Int; var score: Double }
    var prediction_id: String
    var event_id: String?
    var entity_id: String
    var event_time: String
    var scored_at: String
    var model: ModelRef
    var score: Double
    var features: [String: JSONFeature]
    var explanation: [Contribution]
    var challenger: Challenger?
}

/// A logistic model over four of the pipeline's features, in Sluice's linear JSON format.
func linearModelJSON(weights: [Double], intercept: Double) -> [UInt8] {
    let names = ["amount", "txn_count_1h", "merchants_7d", "secs_since_last"]
    return Array("""
        {"format": "sluice-linear", "version": 1, "feature_names": [\(names.map { "\"\($0)\"" }.joined(separator: ","))],
         "weights": [\(weights.map { "\($0)" }.joined(separator: ","))], "intercept": \(intercept), "link": "logistic", "missing": "zero"}
        """.utf8)
}

func linearModel(weights: [Double], intercept: Double) throws -> LoadedModel {
    try ModelLoader.load(bytes: linearModelJSON(weights: weights, intercept: intercept), format: .linearJSON)
}

/// What the feature log holds for one event.
struct LoggedPrediction {
    var features: [String: FieldValue]
    var modelVersion: Int
    var score: Double
    var challengerScore: Double?
    var explanation: String?
    var partition: Int32
    var offset: Int64
}

func loggedPredictions(_ environment: WorkerEnvironment, _ connection: PostgresConnection) async throws -> [String: LoggedPrediction] {
    let rows = try await connection.query("""
        SELECT prediction_id, features::text, model_version, score, challenger_score, explanation::text, source_partition, source_offset
        FROM \(environment.schema).predictions
        """)
    var result: [String: LoggedPrediction] = [:]
    for row in rows {
        result[try row.decode(String.self, column: 0)] = LoggedPrediction(
            features: try WorkerEnvironment.parseFeatures(Array(try row.decode(String.self, column: 1).utf8)),
            modelVersion: Int(try row.decode(Int32.self, column: 2)), score: try row.decode(Double.self, column: 3),
            challengerScore: try row.decode(Double?.self, column: 4), explanation: try row.decode(String?.self, column: 5),
            partition: try row.decode(Int32.self, column: 6), offset: try row.decode(Int64.self, column: 7))
    }
    return result
}

/// The model's prediction for the features as logged (NaN for a missing value).
func expectedScore(_ model: LoadedModel, _ features: [String: FieldValue]) -> Double {
    let row = model.featureNames.map { name -> Double in
        switch features[name] {
        case .double(let d): d
        case .int(let i): Double(i)
        case .bool(let b): b ? 1 : 0
        default: .nan
        }
    }
    return model.predict(row: row)[0]
}

@Suite("Worker scoring", .serialized, .timeLimit(.minutes(8)))
struct ScoringTests {
    @Test func everyProcessedEventIsScoredOncePublishedAndLoggedWithTheSameScore() async throws {
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(4_000, seed: 21, startMillis: start)

        let setup = try WorkerSetup(config: try environment.config(extra: "model: {explain_top_k: 3}"))
        let champion = try linearModel(weights: [0.004, 0.3, -0.2, -0.0001], intercept: -1.5)
        let challenger = try linearModel(weights: [0.002, 0.1, 0.1, 0.0], intercept: -0.5)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        worker.setModels(ScoringModels(
            champion: try ScoringModel(name: "fraud", version: 7, model: champion, pipelineFeatures: setup.featureNames),
            challenger: try ScoringModel(name: "fraud", version: 8, model: challenger, pipelineFeatures: setup.featureNames)))
        let running = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        await worker.stop()
        try await running.value

        let processed = worker.counts.processed
        #expect(processed > 3_900)
        #expect(worker.counts.predicted == processed)
        let logged = try await loggedPredictions(environment, observer)
        #expect(logged.count == processed, "one logged prediction per processed event")
        let messages = try await environment.consume(environment.predictionsTopic, count: processed)
        let decoded = try messages.map { try JSONDecoder().decode(PredictionMessage.self, from: Data($0.value)) }
        #expect(Set(decoded.map(\.prediction_id)).count == decoded.count, "no duplicate prediction without a crash")
        #expect(Set(decoded.map(\.prediction_id)) == Set(logged.keys))
        for (message, kafka) in zip(decoded, messages) {
            guard let log = logged[message.prediction_id] else { continue }
            #expect(message.prediction_id == "\(environment.topic)/\(log.partition)/\(log.offset)")
            #expect(String(decoding: kafka.key ?? [], as: UTF8.self) == message.entity_id, "keyed by entity")
            #expect(message.model.name == "fraud" && message.model.version == 7 && log.modelVersion == 7)
            #expect(message.score == log.score, "the published score is the logged score")
            #expect(abs(message.score - expectedScore(champion, log.features)) <= 1e-12, "score of \(message.prediction_id)")
            #expect(message.features.mapValues(\.value) == log.features)
            #expect(message.challenger?.version == 8)
            #expect(message.challenger?.score == log.challengerScore)
            if let challengerScore = message.challenger?.score {
                #expect(abs(challengerScore - expectedScore(challenger, log.features)) <= 1e-12)
            }
            // Top-3 w·x contributions by magnitude.
            let weights = ["amount": 0.004, "txn_count_1h": 0.3, "merchants_7d": -0.2, "secs_since_last": -0.0001]
            let contributions = weights.map { name, weight -> (String, Double) in
                let value = log.features[name].flatMap { v -> Double? in if case .double(let d) = v { d } else if case .int(let i) = v { Double(i) } else { nil } } ?? 0
                return (name, weight * value)
            }.sorted { abs($0.1) > abs($1.1) }
            #expect(message.explanation.map(\.feature) == contributions.prefix(3).map(\.0))
            for (got, want) in zip(message.explanation, contributions) {
                #expect(abs(got.contribution - want.1) <= 1e-9)
            }
            #expect(log.explanation?.contains(message.explanation[0].feature) == true)
        }
        await connection.close()
        await reader.close()
        await observer.close()
    }

    @Test func promoteAndRollbackInTheRegistrySwapModelsUnderLoadWithoutLosingAPrediction() async throws {
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        let setup = try WorkerSetup(config: try environment.config())
        let weights1 = ([0.004, 0.3, -0.2, -0.0001], -1.5), weights2 = ([-0.001, 0.05, 0.4, 0.0002], 0.25)
        let v1 = try linearModel(weights: weights1.0, intercept: weights1.1)
        let v2 = try linearModel(weights: weights2.0, intercept: weights2.1)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let registry = try ModelRegistry(connection: try await environment.connect(), schema: environment.schema, logger: WorkerEnvironment.logger)
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: weights1.0, intercept: weights1.1), format: nil,
                                        stage: .production, pipelineFeatures: setup.featureNames)
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: weights2.0, intercept: weights2.1), format: nil,
                                        stage: .staging, pipelineFeatures: setup.featureNames)
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        let watcher = ModelWatcher(registry: registry, listener: try await environment.connect(), name: "default", shadow: false,
                                   pipelineFeatures: setup.featureNames, refreshInterval: .seconds(3_600), logger: WorkerEnvironment.logger,
                                   apply: { worker.setModels($0) })
        await watcher.refresh()
        #expect(watcher.versions.production == 1)
        let watching = Task { await watcher.run() }
        defer { watching.cancel() }
        let running = Task { try await worker.run() }

        // Events keep arriving in waves while the model is promoted (1 → 2) and rolled back (2 → 1); the
        // notification alone (the periodic check is an hour away) brings each change to the worker.
        var produced = 0
        let changes: [(String, @Sendable () async throws -> Void, Int)] = [
            ("promote 2", { _ = try await registry.promote(name: "default", version: 2) }, 2),
            ("roll back", { _ = try await registry.rollback(name: "default") }, 1),
        ]
        for wave in 0..<3 {
            try await environment.produce(3_000, seed: UInt64(100 + wave), startMillis: start + Int64(wave) * 200_000)
            produced += 3_000
            let target = produced - 1_500
            try await waitFor("wave \(wave) half scored") { worker.counts.predicted >= target }
            if wave < changes.count {
                let (what, change, version) = changes[wave]
                try await change()
                try await waitFor("the worker hears '\(what)'") { watcher.versions.production == version }
            }
        }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        await worker.stop()
        try await running.value

        let processed = worker.counts.processed
        #expect(worker.counts.modelVersions == [1, 2, 1], "promote then roll back, each taking over between micro-batches")
        watching.cancel()
        let logged = try await loggedPredictions(environment, observer)
        #expect(logged.count == processed, "no event went unscored across the swaps")
        let messages = try await environment.consume(environment.predictionsTopic, count: processed)
        let decoded = try messages.map { try JSONDecoder().decode(PredictionMessage.self, from: Data($0.value)) }
        #expect(Set(decoded.map(\.prediction_id)) == Set(logged.keys), "every logged prediction was published")
        for message in decoded {
            guard let log = logged[message.prediction_id], let model = [1: v1, 2: v2][message.model.version] else {
                Issue.record("prediction \(message.prediction_id) names unknown version \(message.model.version)")
                continue
            }
            #expect(log.modelVersion == message.model.version)
            #expect(abs(message.score - expectedScore(model, log.features)) <= 1e-12, "\(message.prediction_id) was scored by the version it names")
        }
        // Per partition in offset order the version changes at most twice (1 → 2 → 1): no batch mixes them.
        for partition in 0..<Int32(environment.partitions) {
            let versions = logged.values.filter { $0.partition == partition }.sorted { $0.offset < $1.offset }.map(\.modelVersion)
            let changes = zip(versions, versions.dropFirst()).filter { $0 != $1 }.count
            #expect(changes <= 2, "partition \(partition): \(changes) version changes")
        }
        await connection.close()
        await reader.close()
        await observer.close()
    }
}
