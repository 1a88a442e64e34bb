import CLibPQ
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension PostgresConnection {
    /// Runs `LISTEN channel` and returns the notifications as they arrive.
    ///
    /// The connection becomes dedicated to listening: its thread waits on the
    /// socket with `poll()` and collects notifications with `PQconsumeInput` /
    /// `PQnotifies`; other statements on this connection wait until the
    /// iteration ends. Use a connection of its own, not a pooled one.
    /// Cancelling the iterating task (or dropping the stream) wakes the
    /// thread, runs `UNLISTEN`, and frees the connection again; `close()`
    /// also ends the stream (it finishes without error). If the
    /// session is lost the stream throws `connectionLost`; notifications sent
    /// while nobody listened are not replayed, so re-listen and re-read state.
    /// - Throws: `PostgresError` if `LISTEN` fails.
    package func listen(channel: String) async throws -> AsyncThrowingStream<PostgresNotification, any Error> {
        let quoted = "\"" + channel.replacingAll("\"", with: "\"\"") + "\""
        // The session that ran LISTEN; if it is replaced later, the stream ends with connectionLost.
        let session = try await onQueue { [self] in
            _ = try execOnQueue("LISTEN \(quoted)", [], retryIdempotent: false)
            return state.withLock { $0.generation }
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            _ = try? await execute("UNLISTEN \(quoted)")
            throw PostgresError(code: .protocolViolation, message: "pipe() for the listener wakeup failed: errno \(errno)")
        }
        let wakeup = fds[0]
        let (stream, continuation) = AsyncThrowingStream<PostgresNotification, any Error>.makeStream()
        let wakeupBox = WakeupDescriptor(read: fds[0], write: fds[1])
        continuation.onTermination = { _ in wakeupBox.signal() }
        state.withLock { $0.listeners.append(wakeupBox) }
        queue.async { [self] in
            let error = listenLoop(session: session, wakeup: wakeup, continuation: continuation)
            state.withLock { $0.listeners.removeAll { $0 === wakeupBox } }
            wakeupBox.close()
            if error == nil, let conn = listeningPointer(session: session) {
                PQclear(PQexec(conn, "UNLISTEN \(quoted)"))
                // Drop notifications that raced with UNLISTEN.
                while let notify = PQnotifies(conn) { PQfreemem(notify) }
            }
            continuation.finish(throwing: error)
        }
        return stream
    }

    /// Delivers notifications until the wakeup descriptor fires (nil) or the session breaks (error).
    private func listenLoop(
        session: Int,
        wakeup: Int32,
        continuation: AsyncThrowingStream<PostgresNotification, any Error>.Continuation
    ) -> PostgresError? {
        guard let conn = listeningPointer(session: session) else {
            return PostgresError(code: .connectionLost, message: "the session that ran LISTEN is gone; listen again")
        }
        while true {
            while let notify = PQnotifies(conn) {
                let notification = PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: String(cString: notify.pointee.extra),
                    pid: notify.pointee.be_pid)
                PQfreemem(notify)
                continuation.yield(notification)
            }
            var descriptors = [
                pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return PostgresError(code: .protocolViolation, message: "poll failed: errno \(errno)")
            }
            if descriptors[1].revents != 0 { return nil }
            if descriptors[0].revents != 0 {
                if PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK {
                    markLost()
                    return PostgresError(code: .connectionLost, message: "connection lost while listening: \(Self.errorMessage(conn))")
                }
            }
        }
    }

    /// The live `PGconn*` of session `session`, or nil if it was lost or
    /// replaced (never reconnects: a new session would not be listening).
    private func listeningPointer(session: Int) -> OpaquePointer? {
        state.withLock { state in
            guard !state.lost, !state.closed, state.generation == session else { return nil }
            return state.handle?.pointer
        }
    }
}
