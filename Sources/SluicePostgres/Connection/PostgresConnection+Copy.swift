import CLibPQ

extension PostgresConnection {
    /// Runs `COPY … FROM STDIN` and streams what `body` writes (text, CSV or
    /// any format the statement names) in ~256 KiB chunks with `PQputCopyData`.
    ///
    /// `body` runs on the connection's own thread, so it should only encode
    /// rows it already has. If it throws, the COPY is aborted (nothing is
    /// inserted) and the error is rethrown.
    /// - Returns: the number of rows copied (from the command tag).
    @discardableResult
    package func copyIn(
        _ sql: String,
        chunkSize: Int = PostgresCopyWriter.defaultChunkSize,
        _ body: @escaping @Sendable (inout PostgresCopyWriter) throws -> Void
    ) async throws -> Int {
        try await cancellable {
            try await onQueue { [self] in
                try copyOnQueue(sql, chunkSize: chunkSize) { writer in try body(&writer) }
            }
        }
    }

    /// Runs `COPY t (cols) FROM STDIN (FORMAT binary)` and streams rows that
    /// `body` writes through a `PostgresBinaryCopyEncoder` (header and trailer
    /// are written for you).
    /// - Returns: the number of rows copied.
    @discardableResult
    package func copyInBinary(
        _ sql: String,
        chunkSize: Int = PostgresCopyWriter.defaultChunkSize,
        _ body: @escaping @Sendable (inout PostgresBinaryCopyEncoder) throws -> Void
    ) async throws -> Int {
        try await cancellable {
            try await onQueue { [self] in
                try copyOnQueue(sql, chunkSize: chunkSize) { writer in
                    var encoder = PostgresBinaryCopyEncoder(writer: writer)
                    encoder.writeHeader()
                    try body(&encoder)
                    try encoder.finish()
                    writer = encoder.writer
                }
            }
        }
    }

    /// Runs `COPY t (cols) FROM STDIN (FORMAT binary)` with rows encoded beforehand, in order (header and
    /// trailer are written for you): the connection spends no time encoding while the server waits.
    /// - Returns: the number of rows copied.
    @discardableResult
    package func copyInBinary(_ sql: String, encoded parts: [PostgresBinaryCopyRows], chunkSize: Int = PostgresCopyWriter.defaultChunkSize) async throws -> Int {
        try await copyInBinary(sql, chunkSize: chunkSize) { encoder in
            for part in parts {
                try part.buffer.withUnsafeReadableBytes { bytes in
                    var start = 0
                    while start < bytes.count {
                        let end = min(bytes.count, start + encoder.writer.chunkSize)
                        try encoder.writer.write(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                        start = end
                    }
                }
            }
        }
    }

    private func copyOnQueue(_ sql: String, chunkSize: Int, _ body: (inout PostgresCopyWriter) throws -> Void) throws -> Int {
        let conn = try usablePointer()
        guard let start = PQexec(conn, sql) else {
            _ = try checkResult(nil, conn: conn, sql: sql)
            throw PostgresError(code: .protocolViolation, message: "COPY did not start", query: sql)
        }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try checkResult(start, conn: conn, sql: sql)  // throws for errors
            throw PostgresError(code: .protocolViolation, message: "statement is not COPY … FROM STDIN", query: sql)
        }
        PQclear(start)
        var writer = PostgresCopyWriter(connection: conn, chunkSize: chunkSize)
        do {
            try body(&writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(conn, "COPY aborted by the client")
            Self.drainResults(conn)
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else {
            markLost()
            throw PostgresError(code: .connectionLost, message: "ending COPY failed: \(Self.errorMessage(conn))", query: sql)
        }
        let result = try checkResult(PQgetResult(conn), conn: conn, sql: sql)
        Self.drainResults(conn)
        return PostgresRows(result: result, query: sql).affectedRows
    }
}
