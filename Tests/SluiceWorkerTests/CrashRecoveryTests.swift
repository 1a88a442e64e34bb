import Foundation
import SluiceFeatureStore
import SluiceKafka
import SluicePostgres
import SluiceRegistry
import SluiceWorker
import Testing

/// Runs `sluice run` as a separate process and kills it with SIGKILL at random instants while events flow.
@Suite("Worker crash recovery", .serialized, .timeLimit(.minutes(8)))
struct CrashRecoveryTests {
    static var sluiceBinary: String {
        if let path = ProcessInfo.processInfo.environment["SLUICE_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/sluice").path
    }

    static func startWorker(configPath: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sluiceBinary)
        process.arguments = ["run", "--config", configPath]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func killNineAtRandomInstantsLosesNothingAndCountsNothingTwice() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.sluiceBinary), "build sluice first (swift build)")
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-crash-\(environment.id).yaml").path
        try environment.yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let observer = try await environment.connect()
        // A production model, so every event is also scored and published before its transaction commits.
        try await FeatureStoreMigrations.migrate(observer, schema: environment.schema)
        let weights = [0.004, 0.3, -0.2, -0.0001]
        let registry = try ModelRegistry(connection: observer, schema: environment.schema, logger: WorkerEnvironment.logger)
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: weights, intercept: -1.5), format: nil,
                                        stage: .production, pipelineFeatures: try WorkerSetup(config: try environment.config()).featureNames)
        var generator = SystemRandomNumberGenerator()
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(3_000, seed: 21, startMillis: start)

        var kills = 0
        for round in 0..<4 {
            let worker = try Self.startWorker(configPath: configPath)
            let before = try await environment.committedEvents(observer)
            // More events arrive while this worker runs.
            let producing = Task { try await environment.produce(1_500, seed: 100 + UInt64(round), startMillis: start + Int64(round + 1) * 200_000) }
            try await waitFor("worker \(round) commits a micro-batch") { try await environment.committedEvents(observer) > before }
            // A random instant while it is processing.
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...400, using: &generator)))
            kill(worker.processIdentifier, SIGKILL)
            worker.waitUntilExit()
            #expect(worker.terminationReason == .uncaughtSignal)
            kills += 1
            try await producing.value
        }

        // The last worker finishes the stream and stops gracefully, once it is up (has claimed every partition).
        let epochsBefore = try await epochSum(observer, environment: environment)
        let last = try Self.startWorker(configPath: configPath)
        try await waitFor("the last worker claims every partition") {
            try await epochSum(observer, environment: environment) >= epochsBefore + Int64(environment.partitions)
        }
        try await environment.waitUntilCaughtUp(observer)
        kill(last.processIdentifier, SIGTERM)
        last.waitUntilExit()
        #expect(last.terminationStatus == 0, "SIGTERM exits 0")
        #expect(kills == 4)

        try await Self.expectStoreMatchesReference(environment, observer, after: "\(kills) kills")
        await observer.close()
    }

    /// The store equals the reference computed from the topic; every processed offset has exactly one
    /// feature-log row; every logged prediction was published (replays only with the same id and score).
    static func expectStoreMatchesReference(_ environment: WorkerEnvironment, _ observer: PostgresConnection, after what: String) async throws {
        let setup = try WorkerSetup(config: try environment.config())
        let reference = try await ReferenceRun.compute(environment, setup: setup)
        let stored = try await environment.storedFeatures(observer)
        #expect(stored.count == reference.features.count)
        var mismatches = 0
        for (entity, expected) in reference.features where stored[entity] != expected {
            mismatches += 1
            if mismatches <= 3 { Issue.record("entity \(entity): stored \(String(describing: stored[entity])), expected \(expected)") }
        }
        #expect(mismatches == 0)
        let logRows = try await observer.query("SELECT source_partition, source_offset FROM \(environment.schema).feature_log")
        let logged = try logRows.map { "\(try $0.decode(Int32.self, column: 0))/\(try $0.decode(Int64.self, column: 1))" }
        #expect(logged.count == reference.processed, "no duplicate log rows after \(what)")
        #expect(Set(logged) == reference.processedOffsets, "no lost log rows")

        // Predictions are at least once: every logged prediction was published (a kill may have published some
        // twice, with the same id and score), and nothing was published for an event the store does not hold.
        let predictions = try await loggedPredictions(environment, observer)
        #expect(predictions.count == reference.processed)
        let published = try await environment.consume(environment.predictionsTopic, count: try await environment.messageCount(environment.predictionsTopic, partitions: 2))
        var scores: [String: Double] = [:]
        for message in published {
            let prediction = try JSONDecoder().decode(PredictionMessage.self, from: Data(message.value))
            if let earlier = scores[prediction.prediction_id] {
                #expect(earlier == prediction.score, "a replayed prediction \(prediction.prediction_id) has the same score")
            }
            scores[prediction.prediction_id] = prediction.score
        }
        #expect(Set(scores.keys) == Set(predictions.keys), "no prediction lost after \(what)")
        for (id, logged) in predictions where scores[id] != logged.score {
            Issue.record("prediction \(id): published \(String(describing: scores[id])), logged \(logged.score)")
        }
    }

    @Test func twoWorkersInOneGroupWithOneKilledAndRestartedGiveTheSameStore() async throws {
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pair-\(environment.id).yaml").path
        try environment.yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let observer = try await environment.connect()
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(3_000, seed: 31, startMillis: start)

        let steady = try Self.startWorker(configPath: configPath)
        var victim = try Self.startWorker(configPath: configPath)
        // Both members own partitions once each of them has claimed (epoch ≥ 1) and the claims are spread.
        try await waitForOwners(observer, environment: environment, count: 2)
        let producing = Task { try await environment.produce(3_000, seed: 32, startMillis: start + 400_000) }
        let before = try await environment.committedEvents(observer)
        try await waitFor("the pair commits a micro-batch of the new events") { try await environment.committedEvents(observer) > before }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        victim = try Self.startWorker(configPath: configPath)
        try await producing.value
        try await environment.waitUntilCaughtUp(observer)
        for worker in [steady, victim] {
            kill(worker.processIdentifier, SIGTERM)
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 0)
        }

        let reference = try await ReferenceRun.compute(environment, setup: try WorkerSetup(config: try environment.config()))
        let stored = try await environment.storedFeatures(observer)
        #expect(stored.count == reference.features.count)
        #expect(reference.features.filter { stored[$0.key] != $0.value }.isEmpty, "every entity equals the reference")
        let logged = try await observer.query("SELECT count(*), count(DISTINCT (source_partition, source_offset)) FROM \(environment.schema).feature_log").first!
        #expect(try logged.decode(Int64.self, column: 0) == Int64(reference.processed))
        #expect(try logged.decode(Int64.self, column: 1) == Int64(reference.processed))
        await observer.close()
    }

    /// The sum of the partitions' ownership epochs: it grows by one per partition a worker claims.
    private func epochSum(_ connection: PostgresConnection, environment: WorkerEnvironment) async throws -> Int64 {
        try await connection.query("SELECT coalesce(sum(epoch), 0)::int8 FROM \(environment.schema).consumer_offsets WHERE consumer_group = $1", [environment.group])
            .first!.decode(Int64.self, column: 0)
    }

    /// Waits until the partitions' claims name `count` different owners.
    private func waitForOwners(_ connection: PostgresConnection, environment: WorkerEnvironment, count: Int) async throws {
        try await waitFor("the partitions are claimed by \(count) workers") {
            let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL", ["\(environment.schema).consumer_offsets"]).first!.decode(Bool.self, column: 0)
            guard exists else { return false }
            let owners = try await connection.query("SELECT count(DISTINCT owner) FROM \(environment.schema).consumer_offsets WHERE consumer_group = $1", [environment.group])
                .first!.decode(Int64.self, column: 0)
            return owners >= count
        }
    }
}
