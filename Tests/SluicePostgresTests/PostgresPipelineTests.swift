import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason))
struct PostgresPipelineTests {
    @Test func resultsComeBackInOrder() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("pipe")
            try await conn.execute("CREATE TEMP TABLE \(table) (k text PRIMARY KEY, v float8, t timestamptz)")
            let results = try await conn.pipeline { p in
                p.send("BEGIN")
                p.send("""
                    INSERT INTO \(table) (k, v, t)
                    SELECT * FROM unnest($1::text[], $2::float8[], $3::timestamptz[])
                    ON CONFLICT (k) DO UPDATE SET v = excluded.v, t = excluded.t WHERE \(table).t <= excluded.t
                    """, [["a", "b", "c"], [1.0, 2.0, 3.0],
                          [PostgresTimestamp(microsecondsSinceUnixEpoch: 1), PostgresTimestamp(microsecondsSinceUnixEpoch: 2), PostgresTimestamp(microsecondsSinceUnixEpoch: 3)]])
                for i in 0..<5 { p.send("SELECT $1::int8 * 10", [Int64(i)]) }
                p.send("SELECT k FROM \(table) ORDER BY k")
                p.send("COMMIT")
            }
            #expect(results.count == 9)
            #expect(results[0].commandTag == "BEGIN")
            #expect(results[1].affectedRows == 3)
            for i in 0..<5 { #expect(try results[2 + i].first?.decode(Int64.self, column: 0) == Int64(i * 10)) }
            #expect(try results[7].map { try $0.decode(String.self, column: 0) } == ["a", "b", "c"])
            #expect(results[8].commandTag == "COMMIT")
        }
    }

    @Test func failureAbortsLaterStatementsAndRollsBack() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("pipefail")
            try await conn.execute("CREATE TEMP TABLE \(table) (k int8 PRIMARY KEY)")
            let results = try await conn.pipelineResults { p in
                p.send("BEGIN")
                p.send("INSERT INTO \(table) VALUES (1)")
                p.send("INSERT INTO \(table) VALUES (1)")
                p.send("INSERT INTO \(table) VALUES (2)")
                p.send("COMMIT")
            }
            #expect(results.count == 5)
            guard case .failure(let failure) = results[2] else { Issue.record("statement 3 should fail"); return }
            #expect(failure.sqlState == "23505")
            for index in [3, 4] {
                guard case .failure(let skipped) = results[index] else { Issue.record("statement \(index + 1) should be skipped"); continue }
                #expect(skipped.code == .pipelineAborted)
            }
            // Rolled back, and the connection is usable.
            #expect(try #require(try await conn.query("SELECT count(*) FROM \(table)").first).decode(Int64.self, column: 0) == 0)
            let error = try await #require(throws: PostgresError.self) {
                try await conn.pipeline { p in p.send("SELECT 1"); p.send("SELECT 1/0") }
            }
            #expect(error.sqlState == "22012")
            #expect(error.message.contains("statement 2"))
        }
    }
}
