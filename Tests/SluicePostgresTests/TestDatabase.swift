import Foundation
import SluicePostgres
import Testing

/// Where the integration tests find PostgreSQL.
///
/// `SLUICE_TEST_POSTGRES_URL` (e.g. from `scripts/dev-postgres start`) is
/// required in CI (`CI` set): the suites then fail with a clear message
/// instead of being skipped. Outside CI, a missing URL disables the suites.
enum TestDatabase {
    static let url: String? = {
        let value = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"]
        return (value?.isEmpty ?? true) ? nil : value
    }()

    static let isCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// Run the suites when a URL is given, and always in CI (so a missing URL fails there).
    static let enabled = url != nil || isCI

    static let disabledReason: Comment =
        "SLUICE_TEST_POSTGRES_URL is not set: run `scripts/dev-postgres start` and export SLUICE_TEST_POSTGRES_URL=$(scripts/dev-postgres url)"

    struct MissingURL: Error, CustomStringConvertible {
        var description: String {
            "CI is set but SLUICE_TEST_POSTGRES_URL is not: .ci/run must start PostgreSQL (scripts/dev-postgres start) and export SLUICE_TEST_POSTGRES_URL"
        }
    }

    static func configuration(connectTimeoutSeconds: Int = 5, reconnect: PostgresReconnectPolicy = .init()) throws -> PostgresConfiguration {
        guard let url else { throw MissingURL() }
        return try PostgresConfiguration(url, connectTimeoutSeconds: connectTimeoutSeconds, applicationName: "sluice-tests", reconnect: reconnect)
    }

    static func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration: configuration())
    }

    /// Runs `body` with a fresh connection and closes it afterwards.
    static func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await connect()
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A table name unique to this run and call, so suites may run concurrently.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Polls `condition` until it is true or `timeout` passes (no fixed sleeps).
func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
