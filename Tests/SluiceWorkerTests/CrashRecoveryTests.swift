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
        try await environment.registerProductionModel(observer)
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
        let epochsBefore = try await environment.epochSum(observer)
        let last = try Self.startWorker(configPath: configPath)
        try await waitFor("the last worker claims every partition") {
            try await environment.epochSum(observer) >= epochsBefore + Int64(environment.partitions)
        }
        try await environment.waitUntilCaughtUp(observer)
        kill(last.processIdentifier, SIGTERM)
        last.waitUntilExit()
        #expect(last.terminationStatus == 0, "SIGTERM exits 0")
        #expect(kills == 4)

        try await environment.expectStoreMatchesReference(observer, after: "\(kills) kills")
        await observer.close()
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
        try await environment.waitForOwners(observer, count: 2)
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
}
