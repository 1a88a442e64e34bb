import Foundation
import SluiceInference
import SluiceRegistry
import Testing

/// `sluice models …` run as a separate process (the binary `swift build` leaves in .build/debug).
@Suite("sluice models command line", .timeLimit(.minutes(2)))
struct ModelsCommandTests {
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SLUICE_BIN"], !path.isEmpty { return path }
        return Files.url(".build/debug/sluice").path
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func sluice(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = Files.root
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

    /// `sluice(_:environment:)` waited for on a thread of its own, for commands that run for seconds: a blocking wait
    /// on one of the few cooperative threads would stall every other test's tasks (and fail their time limits).
    static func sluiceOffThePool(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try sluice(arguments, environment: extra) })
            }
        }
    }

    @Test func registerChecksThePipelineOfTheConfigAndListPrintsJSON() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build sluice first (swift build)")
        let scratch = try await Scratch()
        let environment = ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": scratch.schema]
        let config = ["--config", "config/sluice.yaml"]

        let registered = try Self.sluice(["models", "register"] + config + ["--name", "fraud", "--file", "examples/models/fraud-xgb.json",
                                          "--stage", "production", "--description", "example"], environment: environment)
        #expect(registered.status == 0, "\(registered.stderr)")
        #expect(registered.stdout.hasPrefix("registered fraud version 1 (xgboost-json, 9 features, sha256 "))

        // last_country is a feature of the example pipeline, but a string: a model may not use it.
        let stringModel = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-string-model-\(UUID().uuidString).json")
        try Data(#"{"format": "sluice-linear", "version": 1, "feature_names": ["amount", "last_country", "nope"], "weights": [1, 2, 3], "link": "logistic"}"#.utf8)
            .write(to: stringModel)
        defer { try? FileManager.default.removeItem(at: stringModel) }
        let refused = try Self.sluice(["models", "register"] + config + ["--name", "fraud", "--file", stringModel.path], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(refused.stderr)")
        #expect(lines.first?.hasPrefix("error: model 'fraud' uses 1 string feature(s) of the pipeline: last_country (last of string field 'country'); a model scores numbers") == true)
        #expect(lines.first?.hasSuffix("it also uses 1 feature(s) the pipeline does not compute: nope") == true)

        let listed = try Self.sluice(["models", "list", "--json"] + config, environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        let models = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(models.count == 1)
        #expect(models.first?["stage"] as? String == "production")
        #expect(models.first?["sha256"] as? String == ArtifactDigest.sha256Hex(try Files.bytes("examples/models/fraud-xgb.json")))
        #expect(models.first?["feature_names"] as? [String] == Files.fraudFeatures)
        #expect(try await scratch.registry.currentVersions(name: "fraud") == (production: 1, shadow: nil))

        let missing = try Self.sluice(["models", "rollback", "fraud"] + config, environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: cannot roll back model 'fraud': version 1 is the only version"))
        try await scratch.drop()
    }

    @Test func scoreReproducesTheTrainingLibraryAndExplanationsSumToTheMargin() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build sluice first (swift build)")
        let run = try Self.sluice(["models", "score", "--model", "examples/models/fraud-xgb.json", "--input", "examples/models/fraud-sample.csv",
                                   "--keep", "event_id", "--margins", "--explain"])
        #expect(run.status == 0, "\(run.stderr)")
        let records = try CSVScoring.parse(run.stdout).filter { $0 != [""] }
        let header = try #require(records.first)
        #expect(header == ["event_id", "prediction", "margin"] + Files.fraudFeatures.map { "contribution_\($0)" } + ["contribution_bias"])
        let cases = try ExampleCases("fraud-xgb.cases.json")
        #expect(records.count == 21)
        for (index, record) in records.dropFirst().enumerated() {
            #expect(record[0] == "e\(index)")
            let prediction = try #require(Double(record[1]))
            #expect(abs(prediction - (cases.predictions[index][0] ?? .nan)) <= 1e-6, "row \(index)")
            let margin = try #require(Double(record[2]))
            let sum = record[3...].compactMap(Double.init).reduce(0, +)
            #expect(abs(sum - margin) <= 1e-4, "row \(index): contributions sum to \(sum), margin \(margin)")
        }
    }
}
