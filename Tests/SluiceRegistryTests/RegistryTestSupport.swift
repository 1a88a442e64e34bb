import Foundation
import Logging
import SluiceFeatureStore
import SluiceInference
import SluicePostgres
import SluiceRegistry
import Testing

/// A scratch feature-store schema with the registry tables, dropped by `drop()`.
struct Scratch {
    static let logger: Logger = {
        var logger = Logger(label: "sluice.registry.tests")
        logger.logLevel = .warning
        return logger
    }()

    let schema = "reg_\(UUID().uuidString.prefix(8).lowercased())"
    let connection: PostgresConnection
    let registry: ModelRegistry

    static var url: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"], !url.isEmpty else {
                throw RegistryError(.notFound, "SLUICE_TEST_POSTGRES_URL is not set: run the tests with scripts/test (or export it)")
            }
            return url
        }
    }

    init() async throws {
        connection = try await PostgresConnection.connect(url: try Self.url, logger: Self.logger)
        try await FeatureStoreMigrations.migrate(connection, schema: schema)
        registry = try ModelRegistry(connection: connection, schema: schema, logger: Self.logger)
    }

    /// Another session with its own registry on the same schema (what another process would have).
    func secondRegistry() async throws -> (PostgresConnection, ModelRegistry) {
        let other = try await PostgresConnection.connect(url: try Self.url, logger: Self.logger)
        return (other, try ModelRegistry(connection: other, schema: schema, logger: Self.logger))
    }

    func drop() async throws {
        try await connection.execute("DROP SCHEMA \(schema) CASCADE")
        await connection.close()
    }
}

/// A model name no other test uses (the NOTIFY channel is shared by every schema of the database).
func uniqueName(_ prefix: String = "fraud") -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

/// Repository files the tests read.
enum Files {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: url(path))) }

    /// A small linear model (features l0…l4).
    static var linear: [UInt8] { get throws { try bytes("Tests/SluiceInferenceTests/Fixtures/models/linear_logistic.json") } }
    static let linearFeatures = ["l0", "l1", "l2", "l3", "l4"]

    /// The nine numeric features of config/sluice.yaml, which examples/models/fraud-xgb.json uses.
    static let fraudFeatures = ["amount", "txn_count_1h", "txn_count_24h", "amount_sum_1h", "amount_mean_24h", "amount_max_24h",
                                "amount_std_7d", "merchants_7d", "secs_since_last"]
}

/// An examples/models/*.cases.json file: rows (null = missing) and the training library's predictions.
struct ExampleCases: Decodable {
    var model: String
    var feature_names: [String]
    var rows: [[Double?]]
    var predictions: [[Double?]]

    init(_ file: String) throws {
        self = try JSONDecoder().decode(ExampleCases.self, from: Data(contentsOf: Files.url("examples/models/\(file)")))
    }

    var matrix: [[Double]] { rows.map { row in row.map { $0 ?? .nan } } }
}

/// Expects `body` to throw a ``RegistryError`` with `code`, and returns it for further checks.
@discardableResult
func expectRegistryError(_ code: RegistryError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () async throws -> Void) async -> RegistryError? {
    do {
        try await body()
        Issue.record("expected RegistryError \(code), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as RegistryError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RegistryError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Collects notifications of `channel` until one carries `until`, within `timeout`; returns the payloads before it.
func collectNotifications(_ stream: AsyncThrowingStream<PostgresNotification, any Error>, until sentinel: String,
                          timeout: Duration = .seconds(20)) async throws -> [String] {
    try await withThrowingTaskGroup(of: [String]?.self) { group in
        group.addTask {
            var payloads: [String] = []
            for try await notification in stream {
                if notification.payload == sentinel { return payloads }
                payloads.append(notification.payload)
            }
            return payloads
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let payloads = first else {
            throw RegistryError(.notFound, "no notification '\(sentinel)' within \(timeout)")
        }
        return payloads
    }
}
