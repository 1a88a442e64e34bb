import SluicePostgres
import Synchronization
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason), .timeLimit(.minutes(1)))
struct PostgresPoolTests {
    final class Gauge: Sendable {
        private let state = Mutex((current: 0, max: 0, pids: Set<Int32>()))
        func enter(_ pid: Int32) { state.withLock { $0.current += 1; $0.max = Swift.max($0.max, $0.current); $0.pids.insert(pid) } }
        func leave() { state.withLock { $0.current -= 1 } }
        var max: Int { state.withLock { $0.max } }
        var pids: Set<Int32> { state.withLock { $0.pids } }
    }

    @Test func boundHoldsUnder50ConcurrentTasks() async throws {
        let pool = PostgresPool(configuration: try TestDatabase.configuration(),
                                options: .init(minConnections: 2, maxConnections: 4, acquireTimeout: .seconds(30)))
        try await pool.warmUp()
        #expect(pool.statistics.open == 2)
        let gauge = Gauge()
        let results = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<50 {
                group.addTask {
                    try await pool.withConnection { conn in
                        gauge.enter(conn.backendPID)
                        defer { gauge.leave() }
                        return try #require(try await conn.query("SELECT $1::int8, pg_sleep(0.002)", [Int64(i)]).first).decode(Int64.self, column: 0)
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(results.sorted() == (0..<50).map(Int64.init))
        #expect(gauge.max <= 4)
        #expect(gauge.max >= 2, "the test should have exercised concurrency")
        #expect(gauge.pids.count <= 4)
        let stats = pool.statistics
        #expect(stats.maxLeased <= 4)
        #expect(stats.open <= 4)
        #expect(stats.leased == 0)
        await pool.close()
    }

    @Test func acquireTimesOutWhenAllConnectionsAreBusy() async throws {
        let pool = PostgresPool(configuration: try TestDatabase.configuration(),
                                options: .init(minConnections: 0, maxConnections: 1, acquireTimeout: .milliseconds(200)))
        let (held, heldContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await pool.withConnection { _ in
                heldContinuation.yield()
                for await _ in release { break }
            }
        }
        for await _ in held { break }
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: PostgresError.self) {
            try await pool.withConnection { _ in }
        }
        let waited = clock.now - start
        #expect(error.code == .poolTimeout)
        #expect(waited >= .milliseconds(150))
        #expect(waited < .seconds(5))
        releaseContinuation.yield()
        try await holder.value
        // Free again: acquiring works.
        let one = try await pool.withConnection { conn in
            try await conn.query("SELECT 1::int4").first?.decode(Int32.self, column: 0)
        }
        #expect(one == 1)
        await pool.close()
        await #expect(throws: PostgresError.self) { try await pool.withConnection { _ in } }
    }

    @Test func brokenConnectionsAreDiscardedAndReplaced() async throws {
        let pool = PostgresPool(configuration: try TestDatabase.configuration(),
                                options: .init(minConnections: 1, maxConnections: 1, acquireTimeout: .seconds(10)))
        try await pool.warmUp()
        let firstPID = try await pool.withConnection { conn in
            let pid = conn.backendPID
            await #expect(throws: PostgresError.self) { try await conn.query("SELECT pg_terminate_backend(pg_backend_pid())") }
            return pid
        }
        // A connection returned with an open transaction is discarded too.
        let secondPID = try await pool.withConnection { conn in
            try await conn.execute("BEGIN")
            return conn.backendPID
        }
        let thirdPID = try await pool.withConnection { conn in
            // SAVEPOINT fails outside a transaction block: the fresh connection is not in the old transaction.
            let error = try await #require(throws: PostgresError.self) { try await conn.execute("SAVEPOINT s") }
            #expect(error.sqlState == "25P01")
            return conn.backendPID
        }
        #expect(firstPID != secondPID)
        #expect(secondPID != thirdPID)
        #expect(pool.statistics.open == 1)
        await pool.close()
    }
}
