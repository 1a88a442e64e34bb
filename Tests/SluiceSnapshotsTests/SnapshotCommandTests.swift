import Foundation
import SluicePostgres
import SluiceSnapshots
import Testing

/// `sluice snapshot …` run as a separate process (the binary `swift build` leaves in .build/debug).
@Suite("sluice snapshot command line",
       .enabled(if: SnapshotTestEnvironment.postgresEnabled, SnapshotTestEnvironment.postgresDisabledReason),
       .timeLimit(.minutes(3)))
struct SnapshotCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SLUICE_BIN"], !path.isEmpty { return path }
        return root.appendingPathComponent(".build/debug/sluice").path
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func sluice(_ arguments: [String], environment extra: [String: String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = root
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }.merging(extra) { _, new in new }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func createWritesTheSnapshotAndListShowsIt() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build sluice first (swift build)")
        try await ScratchStore.with { store in
            try await store.insert((0..<20).map { index in
                LabelledRow(predictionID: "p\(index)", entity: "e\(index % 4)", eventTimeMillis: january1 + Int64(index) * 1_000,
                            modelName: index < 10 ? "fraud" : "churn", modelVersion: 2, features: #"{"x": \#(index)}"#)
            })
            let url = try #require(SnapshotTestEnvironment.postgresURL)
            let environment = ["SLUICE_POSTGRES_URL": url, "SLUICE_POSTGRES_SCHEMA": store.schema, "SLUICE_SNAPSHOTS_DIRECTORY": store.directory]
            let config = ["--config", "config/sluice.yaml"]

            let created = try Self.sluice(["snapshot", "create"] + config + ["--model", "fraud", "--since", "2026-01-01T00:00:02Z",
                                           "--until", "\(january1 + 8_000)", "--holdout", "0.5", "--no-publish", "--json"], environment: environment)
            #expect(created.status == 0, "\(created.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
            let manifest = try #require(json["snapshot"] as? [String: Any])
            #expect(manifest["rows"] as? Int == 6, "seconds 2…7 of model fraud")
            #expect(manifest["holdout_fraction"] as? Double == 0.5)
            #expect(json["published"] is NSNull)
            let id = try #require(manifest["snapshot_id"] as? String)
            #expect(json["directory"] as? String == store.directory + "/" + id)
            #expect(FileManager.default.fileExists(atPath: store.directory + "/" + id + "/data.parquet"))

            let listed = try Self.sluice(["snapshot", "list"] + config + ["--json"], environment: environment)
            #expect(listed.status == 0, "\(listed.stderr)")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            #expect(entries.map { $0["snapshot_id"] as? String } == [id])
            #expect((entries.first?["model"] as? [String: Any])?["name"] as? String == "fraud")

            let table = try Self.sluice(["snapshot", "list"] + config + ["--model", "churn"], environment: environment)
            #expect(table.stdout.contains("no snapshots of model 'churn'"), "\(table.stdout)")

            let nothing = try Self.sluice(["snapshot", "create"] + config + ["--model", "fraud", "--since", "2027-01-01T00:00:00Z", "--no-publish"],
                                          environment: environment)
            #expect(nothing.status == 1)
            #expect(nothing.stderr.contains("no labelled rows match model 'fraud', event time at or after 2027-01-01T00:00:00.000Z"), "\(nothing.stderr)")

            let badTime = try Self.sluice(["snapshot", "create"] + config + ["--since", "last tuesday"], environment: environment)
            #expect(badTime.status == 64)
            #expect(badTime.stderr.contains("--since 'last tuesday' is not a time; expected RFC 3339"), "\(badTime.stderr)")

            let versionAlone = try Self.sluice(["snapshot", "create"] + config + ["--version", "2"], environment: environment)
            #expect(versionAlone.status == 64)
            #expect(versionAlone.stderr.contains("--version 2 needs --model"), "\(versionAlone.stderr)")
        }
    }

    @Test func snapshotStaysWhenTheRetrainRequestCannotBePublished() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build sluice first (swift build)")
        try await ScratchStore.with { store in
            try await store.insert([LabelledRow(predictionID: "p", entity: "e", eventTimeMillis: january1, features: #"{"x": 1}"#)])
            let url = try #require(SnapshotTestEnvironment.postgresURL)
            // Nothing listens on port 1: the producer gives up after its message timeout.
            let environment = ["SLUICE_POSTGRES_URL": url, "SLUICE_POSTGRES_SCHEMA": store.schema, "SLUICE_SNAPSHOTS_DIRECTORY": store.directory,
                               "SLUICE_KAFKA_BROKERS": "127.0.0.1:1", "SLUICE_KAFKA_PRODUCER_MESSAGE_TIMEOUT": "1s"]
            let run = try Self.sluice(["snapshot", "create", "--config", "config/sluice.yaml"], environment: environment)
            #expect(run.status == 3, "\(run.stdout)\n\(run.stderr)")
            #expect(run.stdout.contains("retrain request NOT published"), "\(run.stdout)")
            #expect(run.stderr.contains("was taken, but its retrain request was not published to retrain-requests"), "\(run.stderr)")
            #expect(store.directoryEntries().count == 1)
            let count = try #require(try await store.connection.query("SELECT count(*) FROM \(store.schema).snapshots").first)
            #expect(try count.decode(Int64.self, column: 0) == 1)
        }
    }
}
