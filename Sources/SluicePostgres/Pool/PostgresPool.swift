import Logging
import Synchronization

/// A bounded pool of `PostgresConnection`s.
///
/// `withConnection` leases a connection for the duration of its closure;
/// when all `maxConnections` are leased, callers wait in FIFO order up to
/// `acquireTimeout`, then fail with `.poolTimeout`. A connection returned
/// broken (session lost, or a transaction left open) is closed and its slot
/// given to the next waiter, which opens a fresh connection.
package final class PostgresPool: Sendable {
    /// Pool sizing and waiting.
    package struct Options: Sendable {
        /// Connections opened by `warmUp()` and kept idle.
        package var minConnections: Int
        /// Upper bound on open connections.
        package var maxConnections: Int
        /// How long `withConnection` waits for a free connection.
        package var acquireTimeout: Duration

        package init(minConnections: Int = 1, maxConnections: Int = 10, acquireTimeout: Duration = .seconds(10)) {
            self.maxConnections = max(1, maxConnections)
            self.minConnections = min(max(0, minConnections), self.maxConnections)
            self.acquireTimeout = acquireTimeout
        }
    }

    /// A snapshot of the pool's counters.
    package struct Statistics: Sendable {
        package var open: Int
        package var idle: Int
        package var leased: Int
        package var waiting: Int
        /// The most connections ever leased at once.
        package var maxLeased: Int
    }

    package let configuration: PostgresConfiguration
    package let options: Options
    let logger: Logger
    private let state: Mutex<PostgresPoolStateMachine>
    private let nextWaiterID = Atomic<UInt64>(0)

    package init(configuration: PostgresConfiguration, options: Options = .init(), logger: Logger = Logger(label: "sluice.postgres.pool")) {
        self.configuration = configuration
        self.options = options
        self.logger = logger
        self.state = Mutex(PostgresPoolStateMachine(maxConnections: options.maxConnections))
    }

    /// Opens connections until `minConnections` are open.
    /// - Throws: `PostgresError` `.connectionFailed` if one cannot be opened.
    package func warmUp() async throws {
        while state.withLock({ $0.open < options.minConnections && !$0.closed }) {
            let connection = try await PostgresConnection.connect(configuration: configuration, logger: logger)
            if !state.withLock({ $0.addIdle(connection) }) {
                await connection.close()
                return
            }
        }
    }

    package var statistics: Statistics {
        state.withLock { s in
            Statistics(open: s.open, idle: s.idle.count, leased: s.leased, waiting: s.waiters.count, maxLeased: s.maxLeased)
        }
    }

    /// Leases a connection for `body` and returns it afterwards (checked for health).
    /// - Throws: `.poolTimeout` after `acquireTimeout`, `.closed` after `close()`,
    ///   `.connectionFailed` if a new connection cannot be opened, or `body`'s error.
    package func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        let value: T
        do {
            value = try await body(connection)
        } catch {
            await giveBack(connection)
            throw error
        }
        await giveBack(connection)
        return value
    }

    /// Closes idle connections, fails waiters with `.closed`; leased
    /// connections are closed as they come back.
    package func close() async {
        let (idle, waiters) = state.withLock { $0.close() }
        for waiter in waiters {
            waiter.resume(throwing: PostgresError(code: .closed, message: "the pool was closed while waiting for a connection"))
        }
        for connection in idle { await connection.close() }
    }

    private func lease() async throws -> PostgresConnection {
        let lease: PostgresPoolStateMachine.Lease
        switch state.withLock({ $0.acquire(waiterID: nil, waiter: nil) }) {
        case .lease(let fast):
            lease = fast
        case .closed:
            throw PostgresError(code: .closed, message: "the pool is closed")
        case .enqueued:
            lease = try await waitForLease()
        }
        switch lease {
        case .connection(let connection):
            return connection
        case .slot:
            do {
                return try await PostgresConnection.connect(configuration: configuration, logger: logger)
            } catch {
                perform(state.withLock { $0.releaseSlot() })
                throw error
            }
        }
    }

    private func waitForLease() async throws -> PostgresPoolStateMachine.Lease {
        let id = nextWaiterID.add(1, ordering: .relaxed).newValue
        let timeout = options.acquireTimeout
        let maxConnections = options.maxConnections
        let timer = Task { [self] in
            try await Task.sleep(for: timeout)
            if let waiter = state.withLock({ $0.removeWaiter(id) }) {
                waiter.resume(throwing: PostgresError(
                    code: .poolTimeout,
                    message: "no PostgreSQL connection became free within \(timeout) (all \(maxConnections) in use)"))
            }
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: PostgresPoolStateMachine.Waiter) in
                switch state.withLock({ $0.acquire(waiterID: id, waiter: continuation) }) {
                case .lease(let lease): continuation.resume(returning: lease)
                case .closed: continuation.resume(throwing: PostgresError(code: .closed, message: "the pool is closed"))
                case .enqueued: break
                }
            }
        } onCancel: {
            if let waiter = state.withLock({ $0.removeWaiter(id) }) {
                waiter.resume(throwing: PostgresError(code: .cancelled, message: "cancelled while waiting for a pool connection"))
            }
        }
    }

    private func giveBack(_ connection: PostgresConnection) async {
        let broken = await connection.needsAttention
        if broken {
            logger.debug("postgres pool discards a broken connection", metadata: [PostgresLogKey.backendPID: "\(connection.backendPID)"])
        }
        perform(state.withLock { $0.release(connection, healthy: !broken) })
    }

    private func perform(_ action: PostgresPoolStateMachine.ReleaseAction) {
        switch action {
        case .none:
            break
        case .resume(let waiter, let lease):
            waiter.resume(returning: lease)
        case .close(let connection):
            Task { await connection.close() }
        case .closeAndResume(let connection, let waiter, let lease):
            Task { await connection.close() }
            waiter.resume(returning: lease)
        }
    }
}
