import Logging
import SluicePostgres

/// Retries a feature-store operation while PostgreSQL is unreachable (the connection was lost, or reconnecting
/// was refused — a restart, a failover, terminated sessions), with exponential backoff: 0.2 s doubling to 5 s, nine
/// tries over about 21 s. Any other error, or an outage longer than that, is thrown: the worker then stops, and a
/// restart resumes exactly from the stored offsets.
///
/// Only for operations that are safe to repeat: reads, a micro-batch whose transaction did not commit (its rows
/// are still in memory), and partition claims (a repeated claim bumps the epoch once more, and the worker holds
/// whichever epoch the last claim returned).
enum StoreRetry {
    static let maxAttempts = 8

    static func run<T>(_ what: String, logger: Logger, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as PostgresError where error.code == .connectionLost || error.code == .connectionFailed {
                attempt += 1
                guard attempt <= maxAttempts else { throw error }
                logger.warning("feature store unreachable; retrying \(what)", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(min(5_000, 100 << attempt)))
            }
        }
    }
}
