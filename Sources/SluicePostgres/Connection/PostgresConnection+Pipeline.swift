import CLibPQ

extension PostgresConnection {
    /// Sends several statements in one round trip using libpq pipeline mode
    /// (`PQenterPipelineMode`, `PQsendQueryParams`, one `PQpipelineSync`) and
    /// returns their results in order.
    ///
    /// Without an explicit `BEGIN` the statements run as one implicit
    /// transaction; with `BEGIN … COMMIT` inside, a failing statement leaves
    /// the transaction aborted and this method rolls it back. Statements after
    /// a failure are not executed. Keep result sets small: results are read
    /// only after everything was sent.
    /// - Returns: one `Result` per statement; skipped ones fail with `.pipelineAborted`.
    /// - Throws: only for connection-level failures (`.connectionLost`, `.closed`, ...).
    package func pipelineResults(
        _ build: (inout PostgresPipeline) throws -> Void
    ) async throws -> [Result<PostgresRows, PostgresError>] {
        var pipeline = PostgresPipeline()
        try build(&pipeline)
        let statements = pipeline.statements
        guard !statements.isEmpty else { return [] }
        return try await cancellable { try await onQueue { [self] in try pipelineOnQueue(statements) } }
    }

    /// Like `pipelineResults`, but throws the first failing statement's error
    /// (its message names the statement's position).
    package func pipeline(_ build: (inout PostgresPipeline) throws -> Void) async throws -> [PostgresRows] {
        let results = try await pipelineResults(build)
        return try results.enumerated().map { index, result in
            switch result {
            case .success(let rows): return rows
            case .failure(var error):
                error.message = "pipeline statement \(index + 1) of \(results.count): " + error.message
                throw error
            }
        }
    }

    private func pipelineOnQueue(_ statements: [PostgresPipeline.Statement]) throws -> [Result<PostgresRows, PostgresError>] {
        // Encoding failures surface before anything is sent.
        for statement in statements {
            if let error = statement.binds.deferredError { throw error }
        }
        let conn = try usablePointer()
        let idleBefore = PQtransactionStatus(conn) == PQTRANS_IDLE
        guard PQenterPipelineMode(conn) == 1 else {
            throw PostgresError(code: .protocolViolation, message: "could not enter pipeline mode: \(Self.errorMessage(conn))")
        }
        defer { _ = PQexitPipelineMode(conn) }
        for statement in statements {
            let sent = try statement.binds.withLibPQArrays { types, values, lengths, formats in
                PQsendQueryParams(conn, statement.sql, Int32(statement.binds.count), types, values, lengths, formats, 1)
            }
            guard sent == 1 else {
                // Half a pipeline may be queued: the session is not reusable.
                let lost = PQstatus(conn) != CONNECTION_OK
                markLost()
                throw PostgresError(
                    code: lost ? .connectionLost : .protocolViolation,
                    message: "sending pipelined statement failed: \(Self.errorMessage(conn))", query: statement.sql)
            }
        }
        guard PQpipelineSync(conn) == 1 else {
            markLost()
            throw PostgresError(code: .connectionLost, message: "pipeline sync failed: \(Self.errorMessage(conn))")
        }
        var results: [Result<PostgresRows, PostgresError>] = []
        results.reserveCapacity(statements.count)
        for statement in statements {
            guard let result = PQgetResult(conn) else {
                if PQstatus(conn) != CONNECTION_OK {
                    markLost()
                    throw PostgresError(code: .connectionLost, message: "connection lost in pipeline: \(Self.errorMessage(conn))", query: statement.sql)
                }
                markLost()
                throw PostgresError(code: .protocolViolation, message: "pipeline ended early", query: statement.sql)
            }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                results.append(.failure(PostgresError(
                    code: .pipelineAborted,
                    message: "not executed because an earlier statement of the pipeline failed",
                    query: statement.sql)))
            } else {
                do {
                    results.append(.success(PostgresRows(result: try checkResult(result, conn: conn, sql: statement.sql), query: statement.sql)))
                } catch let error as PostgresError {
                    if error.code == .connectionLost { throw error }
                    results.append(.failure(error))
                }
            }
            // Each statement's results end with a NULL.
            while let extra = PQgetResult(conn) { PQclear(extra) }
        }
        // The sync point.
        if let sync = PQgetResult(conn) {
            let status = PQresultStatus(sync)
            PQclear(sync)
            if status != PGRES_PIPELINE_SYNC {
                markLost()
                throw PostgresError(code: .protocolViolation, message: "expected the pipeline sync, got \(String(cString: PQresStatus(status)))")
            }
        }
        _ = PQexitPipelineMode(conn)
        if idleBefore && PQtransactionStatus(conn) == PQTRANS_INERROR {
            PQclear(PQexec(conn, "ROLLBACK"))
        }
        return results
    }
}
