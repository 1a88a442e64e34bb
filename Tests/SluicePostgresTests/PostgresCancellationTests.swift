import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason), .timeLimit(.minutes(1)))
struct PostgresCancellationTests {
    @Test func cancellingTheTaskCancelsTheRunningStatement() async throws {
        let conn = try await TestDatabase.connect()
        let observer = try await TestDatabase.connect()
        let pid = conn.backendPID
        let clock = ContinuousClock()
        let start = clock.now
        let sleeper = Task { try await conn.query("SELECT pg_sleep(30)") }
        let running = try await waitUntil {
            try #require(try await observer.query(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep%'", [pid]).first)
                .decode(Int64.self, column: 0) == 1
        }
        #expect(running)
        sleeper.cancel()
        let error = try await #require(throws: PostgresError.self) { try await sleeper.value }
        #expect(error.code == .cancelled)
        #expect(error.sqlState == "57014")
        #expect(clock.now - start < .seconds(20))
        // Same session, still usable.
        #expect(try await conn.query("SELECT pg_backend_pid()").first?.decode(Int32.self, column: 0) == pid)
        await conn.close()
        await observer.close()
    }
}
