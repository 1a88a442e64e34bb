import Foundation
import SluicePostgres
import Testing

/// Issue 9, item 6: bad configuration files and bad model files give clear errors at the command line (the binary,
/// run as a process; the library-level messages are pinned by SluiceConfigurationTests and ModelLoadingErrorTests).
@Suite("Command-line errors for bad files", .timeLimit(.minutes(2)))
struct CommandLineErrorTests {
    static func temporaryFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString.prefix(8))-\(name)")
        try Data(bytes).write(to: url)
        return url
    }

    /// The example configuration with one line replaced.
    static func exampleConfig(replacing old: String, with new: String) throws -> URL {
        let text = try String(contentsOf: Files.url("config/sluice.yaml"), encoding: .utf8)
        #expect(text.contains(old), "config/sluice.yaml holds \(old)")
        return try temporaryFile("config.yaml", Array(text.replacingOccurrences(of: old, with: new).utf8))
    }

    @Test func configCheckExitsTwoNamingTheKeyPathOfEachProblem() throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
        let cases: [(name: String, old: String, new: String, expected: [String])] = [
            ("unknown key", "allowed_lateness: 5m", "alowed_lateness: 5m",
             ["source.alowed_lateness", "unknown key", "did you mean 'allowed_lateness'?"]),
            ("invalid enum", "compression: lz4", "compression: brotli",
             ["kafka.producer.compression", "'brotli' is not valid", "none, gzip, snappy, lz4, zstd"]),
            ("bare number duration", "linger: 5ms", "linger: 5", ["kafka.producer.linger"]),
            ("wrong field type", "amount: double", "amount: decimal", ["source.fields.amount", "decimal"]),
            ("YAML syntax", "  group: sluice ", "  group: [sluice ", ["line "]),
        ]
        for c in cases {
            let file = try Self.exampleConfig(replacing: c.old, with: c.new)
            defer { try? FileManager.default.removeItem(at: file) }
            let run = try ModelsCommandTests.sluice(["config", "check", file.path])
            #expect(run.status == 2, "\(c.name): exit status \(run.status), stderr \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(c.name): nothing printed on stdout")
            #expect(run.stderr.contains("invalid configuration \(file.path)"), "\(c.name): \(run.stderr)")
            for text in c.expected {
                #expect(run.stderr.contains(text), "\(c.name): '\(text)' in \(run.stderr)")
            }
        }

        // An override from the environment names the variable and the key.
        let file = try Self.temporaryFile("config.yaml", try Files.bytes("config/sluice.yaml"))
        defer { try? FileManager.default.removeItem(at: file) }
        let override = try ModelsCommandTests.sluice(["config", "check", file.path], environment: ["SLUICE_FLUSH_MAX_EVENTS": "0"])
        #expect(override.status == 2)
        #expect(override.stderr.contains("SLUICE_FLUSH_MAX_EVENTS (flush.max_events)"), "\(override.stderr)")

        // A file that does not exist.
        let missing = try ModelsCommandTests.sluice(["config", "check", "/nonexistent/sluice.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/sluice.yaml"), "\(missing.stderr)")
    }

    @Test func registeringATruncatedOrGarbageModelFileFailsNamingTheFileAndTheProblem() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
        let scratch = try await Scratch()
        let environment = ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": scratch.schema]
        let model = try Files.bytes("examples/models/fraud-xgb.json")
        let files: [(name: String, bytes: [UInt8], problem: String)] = [
            ("truncated.json", Array(model.prefix(model.count / 2)), "xgboost-json"),
            ("garbage.bin", [0x00, 0xFF, 0x13, 0x37] + Array("not a model at all".utf8), "is not a model"),
            ("empty.json", [], "is not a model"),
        ]
        for entry in files {
            let file = try Self.temporaryFile(entry.name, entry.bytes)
            defer { try? FileManager.default.removeItem(at: file) }
            let run = try ModelsCommandTests.sluice(["models", "register", "--config", "config/sluice.yaml", "--name", "fraud", "--file", file.path],
                                                    environment: environment)
            #expect(run.status == 1, "\(entry.name): exit status \(run.status), stderr \(run.stderr)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.hasPrefix("error: "), "\(entry.name): \(run.stderr)")
            #expect(run.stderr.contains(file.path), "\(entry.name): the message names the file: \(run.stderr)")
            #expect(run.stderr.contains(entry.problem), "\(entry.name): the message says what is wrong (\(entry.problem)): \(run.stderr)")
        }
        let missing = try ModelsCommandTests.sluice(["models", "register", "--config", "config/sluice.yaml", "--name", "fraud", "--file", "/nonexistent/model.json"],
                                                    environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read model file /nonexistent/model.json"), "\(missing.stderr)")
        let registered = try await scratch.connection.query("SELECT count(*) FROM \(scratch.schema).models").first?.decode(Int64.self, column: 0)
        #expect(registered == 0, "nothing was registered")
        try await scratch.drop()
    }

    /// `sluice bench pipeline` checks its options before it starts a cluster, a producer or a schema: a bad one exits 64
    /// (ArgumentParser's usage error) naming the option, the value and what was expected.
    @Test func benchPipelineRejectsBadOptionsBeforeStartingAnything() throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
        let cases: [(arguments: [String], expected: [String])] = [
            (["--compression", "brotli"], ["'brotli' is invalid for '--compression", "'none', 'gzip', 'snappy', 'lz4' or 'zstd'"]),
            (["--rate", "0"], ["--rate must be a positive number"]),
            (["--batch", "1000,x"], ["--batch '1000,x'"]),
        ]
        for c in cases {
            // An unreachable PostgreSQL URL: were validation skipped, the run would fail on it, not exit 64.
            let run = try ModelsCommandTests.sluice(["bench", "pipeline", "--postgres-url", "postgres://nobody@127.0.0.1:1/none"] + c.arguments)
            #expect(run.status == 64, "\(c.arguments): exit status \(run.status), stderr \(run.stderr)")
            for text in c.expected { #expect(run.stderr.contains(text), "\(c.arguments): '\(text)' in \(run.stderr)") }
        }
    }
}
