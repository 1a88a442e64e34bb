import SluicePostgres
import Testing

/// Asserts the reconnect rule documented on `PostgresConnection`.
@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason), .timeLimit(.minutes(1)))
struct PostgresReconnectTests {
    private func terminate(_ pid: Int32) async throws {
        try await TestDatabase.withConnection { admin in
            try await admin.execute("SELECT pg_terminate_backend($1)", [pid])
            let gone = try await waitUntil {
                try #require(try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [pid]).first)
                    .decode(Int64.self, column: 0) == 0
            }
            #expect(gone, "backend \(pid) did not exit")
        }
    }

    @Test func idleSessionKilledBeforeSendingReconnectsTransparently() async throws {
        try await TestDatabase.withConnection { conn in
            let oldPID = conn.backendPID
            try await terminate(oldPID)
            // The loss is detected before the statement is sent, so it runs on a new session.
            let pid = try #require(try await conn.query("SELECT pg_backend_pid()").first).decode(Int32.self, column: 0)
            #expect(pid != oldPID)
            #expect(pid == conn.backendPID)
            #expect(conn.generation == 2)
            #expect(try await conn.query("SELECT 1::int4").first?.decode(Int32.self, column: 0) == 1)
        }
    }

    @Test func lossInFlightThrowsConnectionLostThenNextCallWorks() async throws {
        try await TestDatabase.withConnection { conn in
            let oldPID = conn.backendPID
            let error = try await #require(throws: PostgresError.self) {
                try await conn.query("SELECT pg_terminate_backend(pg_backend_pid())")
            }
            #expect(error.code == .connectionLost)
            let pid = try #require(try await conn.query("SELECT pg_backend_pid()").first).decode(Int32.self, column: 0)
            #expect(pid != oldPID)
        }
    }

    @Test func lossInsideTransactionIsNeverRetried() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("rtx")
            try await conn.execute("CREATE TABLE \(table) (id int8)")
            let error = try await #require(throws: PostgresError.self) {
                try await conn.transaction { tx in
                    try await tx.execute("INSERT INTO \(table) VALUES (1)")
                    try await terminate(tx.backendPID)
                    do {
                        try await tx.execute("INSERT INTO \(table) VALUES (2)")
                    } catch {
                        // Even if the body carries on, statements of the lost transaction keep failing.
                        await #expect(throws: PostgresError.self) { try await tx.execute("INSERT INTO \(table) VALUES (3)") }
                        throw error
                    }
                }
            }
            #expect(error.code == .connectionLost)
            // After the transaction closure, the next use reconnects; nothing was committed.
            let count = try #require(try await conn.query("SELECT count(*) FROM \(table)").first).decode(Int64.self, column: 0)
            #expect(count == 0)
            try await conn.execute("DROP TABLE \(table)")
        }
    }

    @Test func retryIdempotentRerunsOnceOnAFreshSession() async throws {
        try await TestDatabase.withConnection { conn in
            let sequence = TestDatabase.uniqueName("rseq")
            try await conn.execute("CREATE SEQUENCE \(sequence)")
            // Kills its own session the first time only (sequences are not transactional).
            let sql = "SELECT CASE WHEN nextval('\(sequence)') = 1 THEN pg_terminate_backend(pg_backend_pid()) ELSE true END, nextval('\(sequence)')"
            let row = try #require(try await conn.query(sql, retryIdempotent: true).first)
            #expect(try row.decode(Bool.self, column: 0))
            #expect(conn.generation == 2)
            try await conn.execute("DROP SEQUENCE \(sequence)")
        }
    }
}
