import Logging
import Synchronization
extension PostgresConnection {
    /// Runs `body` inside `BEGIN` … `COMMIT`.
    ///
    /// Commits when `body` returns; when it throws, issues `ROLLBACK` and
    /// rethrows the original error (a failing ROLLBACK is logged, not thrown).
    /// If a statement inside failed and `body` swallowed the error, `COMMIT`
    /// would silently roll back: that case throws (SQLSTATE 25P02). Never
    /// retried on connection loss; see the reconnect rule on `PostgresConnection`.
    /// - Throws: `body`'s error, or `PostgresError` from BEGIN/COMMIT.
    @discardableResult
    package func transaction<T>(
        isolation: PostgresIsolationLevel? = nil,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let entered = state.withLock { state -> Bool in
            guard !state.inTransactionBlock else { return false }
            state.inTransactionBlock = true
            state.lostInTransactionBlock = false
            return true
        }
        guard entered else {
            throw PostgresError(code: .protocolViolation, message: "transaction {} cannot be nested; use SAVEPOINT inside the closure")
        }
        let begin = isolation.map { "BEGIN ISOLATION LEVEL \($0.rawValue)" } ?? "BEGIN"
        do {
            try await execute(begin)
        } catch {
            leaveTransactionBlock()
            throw error
        }
        let value: T
        do {
            value = try await body(self)
        } catch {
            if !state.withLock({ $0.lostInTransactionBlock }) {
                do {
                    try await execute("ROLLBACK")
                } catch let rollbackError {
                    logger.warning("postgres ROLLBACK failed", metadata: [PostgresLogKey.error: "\(rollbackError)"])
                }
            }
            leaveTransactionBlock()
            throw error
        }
        let commit: PostgresRows
        do {
            commit = try await query("COMMIT")
        } catch {
            leaveTransactionBlock()
            throw error
        }
        leaveTransactionBlock()
        if commit.commandTag == "ROLLBACK" {
            throw PostgresError(
                code: .server,
                message: "the transaction was rolled back at COMMIT because a statement inside it failed",
                sqlState: "25P02",
                query: "COMMIT")
        }
        return value
    }

    private func leaveTransactionBlock() {
        state.withLock { state in
            state.inTransactionBlock = false
            state.lostInTransactionBlock = false
        }
    }
}
