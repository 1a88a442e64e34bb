import CLibPQ
import Dispatch
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One PostgreSQL session over libpq.
///
/// Every blocking libpq call runs on a serial `DispatchQueue` this connection
/// owns, never on Swift's cooperative thread pool; the async API bridges with
/// continuations. Statements from concurrent callers are serialised, but a
/// connection is meant to be used by one task at a time (take it from a
/// `PostgresPool`); `transaction` assumes nobody else interleaves statements.
///
/// ## Reconnect rule
/// - A connection found dead *before* a statement is sent (libpq reports
///   `CONNECTION_BAD`, or the idle socket already carries the server's
///   goodbye, e.g. after `pg_terminate_backend`) is re-opened transparently
///   and the statement runs on the new session — it never reached the server.
///   Exception: if a transaction was open (`transaction {}` or a manual
///   `BEGIN`), the call throws `connectionLost`, because the server rolled
///   the transaction back and replaying later statements would be wrong.
/// - A connection that breaks while a statement is in flight (SQLSTATE class
///   08, 57P01..57P03, or libpq losing the socket) makes that call throw
///   `connectionLost`: whether the statement ran is unknown. The next use
///   reconnects. Pass `retryIdempotent: true` for reads (or idempotent
///   writes) outside a transaction to have the statement re-run once on a
///   fresh connection instead.
/// - Inside `transaction {}` nothing is ever retried and, after a loss, every
///   further statement of that closure throws `connectionLost`.
/// - Reconnecting uses `configuration.reconnect`: up to `maxAttempts`
///   attempts with exponential backoff between them; if all fail, the call
///   throws `connectionFailed` (the statement was not sent).
package final class PostgresConnection: Sendable {
    package let configuration: PostgresConfiguration
    let logger: Logger
    let queue: DispatchQueue
    let state: Mutex<State>

    struct State {
        var handle: PGConnectionHandle?
        /// The session is gone; the next use reconnects.
        var lost = false
        var closed = false
        /// Inside `transaction {}`.
        var inTransactionBlock = false
        /// The session was lost inside `transaction {}`.
        var lostInTransactionBlock = false
        var backendPID: Int32 = 0
        /// Incremented by every successful (re)connect.
        var generation = 0
        /// Wakeups of running `listen` loops, signalled by `close()`.
        var listeners: [WakeupDescriptor] = []
    }

    private init(configuration: PostgresConfiguration, logger: Logger, handle: PGConnectionHandle, queue: DispatchQueue) {
        self.configuration = configuration
        self.logger = logger
        self.queue = queue
        self.state = Mutex(State(handle: handle, backendPID: PQbackendPID(handle.pointer), generation: 1))
    }

    deinit {
        // PQfinish writes to the socket: do it on the connection's own queue,
        // not on whatever (possibly cooperative) thread dropped the last reference.
        let handle = state.withLock { state -> PGConnectionHandle? in
            defer { state.handle = nil }
            return state.handle
        }
        if let handle { queue.async { _ = handle } }
    }

    /// Opens a connection (blocking work happens on the connection's own queue).
    /// - Throws: `PostgresError` `.connectionFailed` with libpq's reason, within the connect timeout.
    package static func connect(
        configuration: PostgresConfiguration,
        logger: Logger = Logger(label: "sluice.postgres")
    ) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "sluice.postgres.connection")
        let handle = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PGConnectionHandle, any Error>) in
            queue.async {
                continuation.resume(with: Result { try PGConnectionHandle.open(configuration, logger: logger) })
            }
        }
        let connection = PostgresConnection(configuration: configuration, logger: logger, handle: handle, queue: queue)
        logger.debug("postgres connected", metadata: [PostgresLogKey.backendPID: "\(connection.backendPID)"])
        return connection
    }

    /// Convenience: parse `url` and connect.
    package static func connect(url: String, logger: Logger = Logger(label: "sluice.postgres")) async throws -> PostgresConnection {
        try await connect(configuration: PostgresConfiguration(url), logger: logger)
    }

    /// Server process id of the current session (changes after a reconnect).
    package var backendPID: Int32 { state.withLock { $0.backendPID } }

    /// Number of successful connects so far (1 until the first reconnect).
    package var generation: Int { state.withLock { $0.generation } }

    /// True once `close()` was called.
    package var isClosed: Bool { state.withLock { $0.closed } }

    /// True when the session is known to be unusable without a reconnect, or a
    /// transaction is left open (used by the pool's health check).
    package var needsAttention: Bool {
        get async {
            (try? await onQueue { [self] in
                let snapshot = state.withLock { ($0.lost || $0.closed, $0.handle) }
                guard !snapshot.0, let handle = snapshot.1 else { return true }
                return PQstatus(handle.pointer) != CONNECTION_OK || PQtransactionStatus(handle.pointer) != PQTRANS_IDLE
            }) ?? true
        }
    }

    /// Closes the session. Further calls throw `.closed`.
    package func close() async {
        for listener in state.withLock({ $0.listeners }) { listener.signal() }
        _ = try? await onQueue { [self] in
            let handle = state.withLock { state -> PGConnectionHandle? in
                state.closed = true
                defer { state.handle = nil }
                return state.handle
            }
            _ = handle  // PQfinish runs here, on the queue, when the last reference goes.
        }
    }

    /// The value libpq uses for a connection option on the live session
    /// (`PQconninfo`), e.g. "sslmode" or "application_name".
    package func connectionOption(_ keyword: String) async throws -> String? {
        try await onQueue { [self] in
            let conn = try usablePointer()
            guard let options = PQconninfo(conn) else { return nil }
            defer { PQconninfoFree(options) }
            var option = options
            while let name = option.pointee.keyword {
                if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
                option += 1
            }
            return nil
        }
    }

    // MARK: Statements

    /// Runs one statement with the extended protocol (`PQexecParams`), binary
    /// parameters and binary results.
    /// - Parameters:
    ///   - retryIdempotent: re-run once on a fresh session if the connection
    ///     breaks mid-statement outside a transaction (only for statements safe to repeat).
    /// - Throws: `PostgresError` (`.server` with SQLSTATE, `.connectionLost`, `.encoding`, ...).
    @discardableResult
    package func query(_ sql: String, _ binds: PostgresBindings = [], retryIdempotent: Bool = false) async throws -> PostgresRows {
        try await cancellable {
            try await onQueue { [self] in try execOnQueue(sql, binds, retryIdempotent: retryIdempotent) }
        }
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    package func execute(_ sql: String, _ binds: PostgresBindings = [], retryIdempotent: Bool = false) async throws -> Int {
        try await query(sql, binds, retryIdempotent: retryIdempotent).affectedRows
    }

    /// `SELECT pg_notify($1, $2)`.
    package func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify($1, $2)", [channel, payload])
    }

    // MARK: Queue plumbing

    /// Runs `body`; if the task is cancelled meanwhile, asks the server to
    /// cancel the running statement (`PQcancel`, sent from a global queue so
    /// the cancelling thread never blocks). The statement then fails with
    /// code `.cancelled` (SQLSTATE 57014). A cancel that arrives while the
    /// statement is still queued behind others may hit the statement running
    /// at that moment, as with any libpq cancel request.
    func cancellable<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await withTaskCancellationHandler(operation: body, onCancel: { [self] in
                guard let handle = state.withLock({ $0.handle }) else { return }
                DispatchQueue.global().async { handle.requestCancel() }
            })
        } catch var error as PostgresError where error.sqlState == "57014" && Task.isCancelled {
            error.code = .cancelled
            throw error
        }
    }

    /// Runs `body` on the connection's queue and resumes the caller with its result.
    func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    func execOnQueue(_ sql: String, _ binds: PostgresBindings, retryIdempotent: Bool) throws -> PostgresRows {
        var retried = false
        while true {
            let conn = try usablePointer()
            let idleBefore = PQtransactionStatus(conn) == PQTRANS_IDLE
            let inBlock = state.withLock { $0.inTransactionBlock }
            let result = try binds.withLibPQArrays { types, values, lengths, formats in
                PQexecParams(conn, sql, Int32(binds.count), types, values, lengths, formats, 1)
            }
            do {
                return PostgresRows(result: try checkResult(result, conn: conn, sql: sql), query: sql)
            } catch let error as PostgresError where error.code == .connectionLost {
                if retryIdempotent && !retried && idleBefore && !inBlock {
                    retried = true
                    logger.debug("postgres connection lost; retrying idempotent statement once", metadata: [PostgresLogKey.error: "\(error.message)"])
                    continue
                }
                throw error
            }
        }
    }

    /// A live `PGconn*` for the next statement, reconnecting first when the
    /// session is known to be gone and no transaction depends on it.
    func usablePointer() throws -> OpaquePointer {
        let snapshot = state.withLock { $0 }
        if snapshot.closed {
            throw PostgresError(code: .closed, message: "the connection was closed")
        }
        if snapshot.lostInTransactionBlock {
            throw PostgresError(
                code: .connectionLost,
                message: "the connection was lost inside a transaction; the server rolled it back, so no further statement of it runs")
        }
        if let handle = snapshot.handle, !snapshot.lost {
            let conn = handle.pointer
            let transaction = PQtransactionStatus(conn)
            if Self.probeAlive(handle) { return conn }
            if transaction != PQTRANS_IDLE || snapshot.inTransactionBlock {
                markLost()
                throw PostgresError(
                    code: .connectionLost,
                    message: "the connection was lost while a transaction was open; the server rolled it back: \(Self.errorMessage(conn))")
            }
            logger.debug("postgres connection found closed before sending; reconnecting", metadata: [PostgresLogKey.error: "\(Self.errorMessage(conn))"])
        }
        return try reconnect()
    }

    /// False when libpq already knows the session is dead, or the idle socket
    /// holds the server's goodbye (consumed without blocking).
    static func probeAlive(_ handle: PGConnectionHandle) -> Bool {
        let conn = handle.pointer
        guard PQstatus(conn) == CONNECTION_OK, !handle.serverTerminatedSession else { return false }
        // The server's FATAL message may be read first (libpq treats it as a
        // notice while idle); keep consuming while the socket stays readable
        // so the EOF behind it is seen too.
        for _ in 0..<8 {
            var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return true }
            guard PQconsumeInput(conn) == 1 else { return false }
            _ = PQisBusy(conn)  // parses what was read, so an idle FATAL reaches the notice sink
            guard PQstatus(conn) == CONNECTION_OK, !handle.serverTerminatedSession else { return false }
        }
        return PQstatus(conn) == CONNECTION_OK && !handle.serverTerminatedSession
    }

    func markLost() {
        state.withLock { state in
            state.lost = true
            if state.inTransactionBlock { state.lostInTransactionBlock = true }
        }
    }

    /// Replaces the session, with bounded exponential backoff between attempts.
    func reconnect() throws -> OpaquePointer {
        let old = state.withLock { state -> PGConnectionHandle? in
            defer { state.handle = nil }
            return state.handle
        }
        _ = old  // the old PGconn is finished here
        let policy = configuration.reconnect
        var lastError: (any Error)?
        for attempt in 0..<policy.maxAttempts {
            Self.sleep(policy.delay(beforeAttempt: attempt))
            do {
                let handle = try PGConnectionHandle.open(configuration, logger: logger)
                let pid = PQbackendPID(handle.pointer)
                state.withLock { state in
                    state.handle = handle
                    state.lost = false
                    state.backendPID = pid
                    state.generation += 1
                }
                logger.info("postgres reconnected", metadata: [PostgresLogKey.backendPID: "\(pid)", PostgresLogKey.attempt: "\(attempt + 1)"])
                return handle.pointer
            } catch {
                lastError = error
                logger.debug("postgres reconnect attempt failed", metadata: [PostgresLogKey.attempt: "\(attempt + 1)", PostgresLogKey.error: "\(error)"])
            }
        }
        state.withLock { $0.lost = true }
        if var error = lastError as? PostgresError {
            error.message = "reconnect failed after \(policy.maxAttempts) attempt(s): " + error.message
            throw error
        }
        throw PostgresError(code: .connectionFailed, message: "reconnect failed: \(String(describing: lastError))")
    }

    static func sleep(_ duration: Duration) {
        guard duration > .zero else { return }
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }

    static func errorMessage(_ conn: OpaquePointer) -> String {
        String(cString: PQerrorMessage(conn)).trimmingWhitespace()
    }

    /// Turns a libpq result into a handle or a `PostgresError`, marking the
    /// session lost when the failure is a connection failure.
    func checkResult(_ result: OpaquePointer?, conn: OpaquePointer, sql: String) throws -> PGResultHandle {
        guard let result else {
            if PQstatus(conn) != CONNECTION_OK {
                markLost()
                throw PostgresError(code: .connectionLost, message: "connection lost: \(Self.errorMessage(conn))", query: sql)
            }
            throw PostgresError(code: .protocolViolation, message: "libpq returned no result: \(Self.errorMessage(conn))", query: sql)
        }
        let handle = PGResultHandle(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return handle
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            var error = Self.serverError(result, sql: sql)
            if PQstatus(conn) != CONNECTION_OK || PostgresError.isConnectionSQLState(error.sqlState) {
                markLost()
                error.code = .connectionLost
            }
            throw error
        case PGRES_COPY_IN:
            _ = PQputCopyEnd(conn, "COPY FROM STDIN is only supported through copyIn")
            Self.drainResults(conn)
            throw PostgresError(code: .protocolViolation, message: "COPY FROM STDIN must be run with copyIn(_:_:)", query: sql)
        case PGRES_COPY_OUT, PGRES_COPY_BOTH:
            markLost()  // no way to abort a COPY OUT cleanly without reading it all
            throw PostgresError(code: .protocolViolation, message: "COPY TO STDOUT is not supported", query: sql)
        default:
            throw PostgresError(code: .protocolViolation, message: "unexpected result status \(String(cString: PQresStatus(PQresultStatus(result))))", query: sql)
        }
    }

    static func drainResults(_ conn: OpaquePointer) {
        while let result = PQgetResult(conn) { PQclear(result) }
    }

    static func serverError(_ result: OpaquePointer, sql: String) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue ?? 0)) else { return nil }
            return String(cString: value)
        }
        let message = field("M") ?? String(cString: PQresultErrorMessage(result)).trimmingWhitespace()
        return PostgresError(
            code: .server,
            message: message.isEmpty ? "statement failed" : message,
            sqlState: field("C"),
            detail: field("D"),
            hint: field("H"),
            constraint: field("n"),
            query: sql)
    }
}
