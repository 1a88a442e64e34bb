import Foundation
import SluiceConfiguration
import SluiceKafka
import SluicePostgres
import SluiceWorker
import Testing

/// Issue 9, item 7: secrets stay out of `config check` and the worker's logs; Kafka SASL/SSL properties and
/// PostgreSQL TLS parameters reach librdkafka and libpq unchanged. (Parameters-only SQL and the HTTP tokens are
/// covered by ServiceTests and BadInputCorpusTests; see docs/security.md.)
@Suite("Security", .serialized, .timeLimit(.minutes(4)))
struct SecurityTests {
    static let postgresPassword = "pg-Pa55-7f3a"
    static let httpToken = "http-T0ken-91c2"
    static let kafkaPassword = "kafka-Pa55-c0de"

    /// `url` with `password` as its userinfo password (the dev server trusts every local connection, so it still works).
    static func withPassword(_ url: String) throws -> String {
        var components = try #require(URLComponents(string: url))
        components.password = postgresPassword
        return try #require(components.string)
    }

    static func run(_ arguments: [String], environment extra: [String: String], output: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.sluiceBinary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }.merging(extra) { _, new in new }
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    @Test func secretsGivenByEnvironmentNeverAppearInConfigCheckOrDebugLogs() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.sluiceBinary), "build sluice first (swift build)")
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-secrets-\(environment.id).yaml")
        try environment.yaml.write(to: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: configPath) }
        let secrets = [
            "SLUICE_POSTGRES_URL": try Self.withPassword(environment.postgresURL),
            "SLUICE_HTTP_TOKEN": Self.httpToken,
            // Accepted by librdkafka under PLAINTEXT (unused there), so the worker really runs with it.
            "SLUICE_KAFKA_PROPERTY_sasl.password": Self.kafkaPassword,
            "SLUICE_KAFKA_PROPERTY_sasl.username": "sluice-user",
            "SLUICE_LOGGING_LEVEL": "debug",
        ]
        func expectNoSecret(_ text: String, in what: String) {
            for secret in [Self.postgresPassword, Self.httpToken, Self.kafkaPassword] {
                #expect(!text.contains(secret), "\(secret) leaked in \(what)")
            }
        }

        let checkOutput = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-check-\(environment.id).log")
        defer { try? FileManager.default.removeItem(at: checkOutput) }
        let check = try Self.run(["config", "check", configPath.path], environment: secrets, output: checkOutput)
        check.waitUntilExit()
        let checked = try String(contentsOf: checkOutput, encoding: .utf8)
        #expect(check.terminationStatus == 0, "\(checked)")
        #expect(checked.contains(":<redacted>@"), "the PostgreSQL password is shown redacted: \(checked)")
        #expect(checked.contains("sasl.password: \"<redacted>\""), "\(checked)")
        #expect(checked.contains("sluice-user"), "non-secret properties are shown")
        expectNoSecret(checked, in: "config check")

        // A few events, good and bad, so the worker connects, processes, dead-letters and commits at debug level.
        try await environment.produce(200, seed: 5, startMillis: Int64(Date().timeIntervalSince1970 * 1_000) - 600_000, entities: 20)
        let runOutput = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-run-\(environment.id).log")
        defer { try? FileManager.default.removeItem(at: runOutput) }
        let worker = try Self.run(["run", "--config", configPath.path, "--exit-after-idle", "1"], environment: secrets, output: runOutput)
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer, timeout: .seconds(60))
        try await waitFor("the worker exits after 1 s idle", timeout: .seconds(60)) { !worker.isRunning }
        if worker.isRunning { kill(worker.processIdentifier, SIGTERM) }
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
        let logs = try String(contentsOf: runOutput, encoding: .utf8)
        #expect(logs.contains("debug"), "debug logging was on: \(logs.prefix(400))")
        #expect(logs.contains("run: consumed 200 events"), "the worker ran with these secrets: \(logs.suffix(400))")
        expectNoSecret(logs, in: "sluice run output")
        await observer.close()
    }

    @Test func kafkaSASLAndSSLPropertiesReachLibrdkafka() throws {
        let yaml = """
            kafka:
              brokers: "127.0.0.1:9092"
              properties:
                security.protocol: SASL_SSL
                sasl.mechanisms: SCRAM-SHA-512
                sasl.username: sluice
                ssl.ca.location: /etc/sluice/ca.pem
                ssl.endpoint.identification.algorithm: https
            source: {topics: [events], entity: user_id, event_time: ts, fields: {amount: double}}
            features:
              - {name: amount, value: amount}
            """
        let config = try SluiceConfig.load(yamlText: yaml, environment: ["SLUICE_KAFKA_PROPERTY_sasl.password": Self.kafkaPassword]).config
        let setup = try WorkerSetup(config: config)
        let keys = ["security.protocol", "sasl.mechanism", "sasl.username", "sasl.password", "ssl.ca.location", "ssl.endpoint.identification.algorithm"]
        let expected: [String: String?] = [
            "security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "sluice",
            "sasl.password": Self.kafkaPassword, "ssl.ca.location": "/etc/sluice/ca.pem", "ssl.endpoint.identification.algorithm": "https",
        ]
        let producer = try setup.producerConfiguration.librdkafkaValues(of: keys)
        let consumer = try setup.consumerConfiguration.librdkafkaValues(of: keys)
        for key in keys {
            #expect(producer[key] == expected[key], "producer \(key)")
            #expect(consumer[key] == expected[key], "consumer \(key)")
        }
    }

    @Test func postgresSSLParametersOfTheURLReachLibpq() async throws {
        let base = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"], "run with scripts/test")
        let separator = base.contains("?") ? "&" : "?"
        let rootCert = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-root-\(UUID().uuidString.prefix(8)).crt").path
        func load(_ url: String) throws -> SluiceConfig {
            let yaml = """
                postgres: {url: "\(url)"}
                source: {topics: [events], entity: user_id, event_time: ts, fields: {amount: double}}
                features:
                  - {name: amount, value: amount}
                """
            return try SluiceConfig.load(yamlText: yaml, environment: [:]).config
        }

        // The worker connects with `postgres.url` as given: each parameter is what libpq uses on the live session.
        let disabled = try load(base + separator + "sslmode=disable&sslrootcert=\(rootCert)&sslcompression=0")
        let connection = try await PostgresConnection.connect(url: disabled.postgres.url.value, logger: WorkerEnvironment.logger)
        #expect(try await connection.connectionOption("sslmode") == "disable")
        #expect(try await connection.connectionOption("sslrootcert") == rootCert)
        await connection.close()

        // sslmode=require reaches libpq: the dev server has no TLS, so libpq itself refuses to connect without it.
        let required = try load(base + separator + "sslmode=require")
        let error = await #expect(throws: (any Error).self) {
            try await PostgresConnection.connect(url: required.postgres.url.value, logger: WorkerEnvironment.logger)
        }
        #expect(String(describing: error).localizedCaseInsensitiveContains("SSL"), "libpq's refusal: \(String(describing: error))")
    }
}
