import CLibPQ
import Logging
import Synchronization

extension PostgresConnection {
    /// Runs `COPY … TO STDOUT` and lets `body` read what the server sends, a chunk at a time, with
    /// ``PostgresCopyOutReader/next()``.
    ///
    /// Memory stays bounded by `readAhead + 1` chunks however many rows the statement produces: the server
    /// streams into the socket while `body` works, and libpq's blocking reads run on the connection's own
    /// thread — the next chunks are read there while `body` handles the current one. `body` runs in the caller's
    /// context (it need not be `Sendable`); pair it with ``PostgresBinaryCopyDecoder`` for `(FORMAT binary)`.
    ///
    /// COPY takes no parameters: build the statement from trusted text only.
    ///
    /// If `body` returns before the reader reached the end, or throws, the rest of the COPY is cancelled
    /// (`PQcancel`) and drained, so the session is usable afterwards. Nothing else may use the connection
    /// meanwhile: statements from other tasks fail with "another command is already in progress".
    /// - Parameters:
    ///   - sql: a `COPY table|(query) TO STDOUT …` statement.
    ///   - chunkSize: a chunk holds whole server messages (one row each) adding up to at least this many
    ///     bytes, except the last.
    ///   - readAhead: chunks read ahead of the one `body` has.
    /// - Returns: what `body` returns.
    /// - Throws: `PostgresError` (`.server` with the SQLSTATE when the statement fails, also mid-stream;
    ///   `.protocolViolation` when `sql` is not a COPY TO STDOUT; `.connectionLost`), or `body`'s error.
    package func copyOut<T>(
        _ sql: String,
        chunkSize: Int = PostgresCopyOutReader.defaultChunkSize,
        readAhead: Int = 2,
        _ body: (inout PostgresCopyOutReader) async throws -> T
    ) async throws -> T {
        try await cancellable {
            try await onQueue { [self] in try startCopyOutOnQueue(sql) }
        }
        var reader = PostgresCopyOutReader(connection: self, sql: sql, chunkSize: chunkSize, readAhead: readAhead)
        let value: T
        do {
            value = try await body(&reader)
        } catch {
            if !reader.isFinished { await abandonCopyOut(reader) }
            throw error
        }
        if !reader.isFinished { await abandonCopyOut(reader) }
        return value
    }

    private func startCopyOutOnQueue(_ sql: String) throws {
        let conn = try usablePointer()
        guard let start = PQexec(conn, sql) else {
            _ = try checkResult(nil, conn: conn, sql: sql)
            throw PostgresError(code: .protocolViolation, message: "COPY did not start", query: sql)
        }
        switch PQresultStatus(start) {
        case PGRES_COPY_OUT:
            PQclear(start)
        case PGRES_COPY_IN:
            _ = try checkResult(start, conn: conn, sql: sql)  // ends the COPY IN and throws
        default:
            _ = try checkResult(start, conn: conn, sql: sql)  // throws for errors
            throw PostgresError(code: .protocolViolation, message: "statement is not COPY … TO STDOUT; use query() or copyIn()", query: sql)
        }
    }

    /// Reads server messages until at least `chunkSize` bytes or the end of the COPY.
    func readCopyOutChunkOnQueue(_ sql: String, chunkSize: Int) throws -> PostgresCopyOutChunk {
        guard let conn = state.withLock({ $0.handle?.pointer }) else {
            throw PostgresError(code: .closed, message: "the connection was closed during COPY TO STDOUT", query: sql)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunkSize + 64 * 1024)
        var messages = 0
        while bytes.count < chunkSize {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(conn, &buffer, 0)
            if length > 0, let buffer {
                bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                PQfreemem(buffer)
                messages += 1
                continue
            }
            if length == -1 {
                // The COPY is over: its result says whether it succeeded (an error mid-stream lands here).
                // Drain before checking, so the session is idle whether or not the result is an error.
                let final = PQgetResult(conn)
                Self.drainResults(conn)
                let result = try checkResult(final, conn: conn, sql: sql)
                let rows = PostgresRows(result: result, query: sql).affectedRows
                return PostgresCopyOutChunk(bytes: bytes, messages: messages, rowCount: rows)
            }
            let reason = Self.errorMessage(conn)
            if PQstatus(conn) != CONNECTION_OK {
                markLost()
                throw PostgresError(code: .connectionLost, message: "connection lost during COPY TO STDOUT: \(reason)", query: sql)
            }
            Self.drainResults(conn)
            throw PostgresError(code: .protocolViolation, message: "reading COPY data failed: \(reason)", query: sql)
        }
        return PostgresCopyOutChunk(bytes: bytes, messages: messages, rowCount: nil)
    }

    /// Cancels a COPY TO STDOUT that is still sending and discards the rest, leaving the session idle.
    private func abandonCopyOut(_ reader: PostgresCopyOutReader) async {
        // Reads still queued finish first (the queue is serial). If one reached the end of the COPY, or the COPY
        // failed, the session is idle already and there is nothing to cancel.
        var over = false
        for pending in reader.pending {
            do {
                if try await pending.value().rowCount != nil { over = true }
            } catch {
                over = true
            }
        }
        if over { return }
        _ = try? await onQueue { [self] in
            guard let handle = state.withLock({ $0.handle }) else { return }
            let conn = handle.pointer
            handle.requestCancel()
            while true {
                var buffer: UnsafeMutablePointer<CChar>?
                let length = PQgetCopyData(conn, &buffer, 0)
                if let buffer { PQfreemem(buffer) }
                if length < 0 { break }
            }
            Self.drainResults(conn)
            if PQstatus(conn) != CONNECTION_OK { markLost() }
            logger.debug("postgres COPY TO STDOUT abandoned before its end")
        }
    }
}
