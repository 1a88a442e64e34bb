import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason))
struct PostgresTransactionTests {
    struct Boom: Error, Equatable { var tag: Int }

    @Test func commitsOnReturn() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("txc")
            try await conn.execute("CREATE TABLE \(table) (id int8 PRIMARY KEY)")
            defer { Task { try? await TestDatabase.withConnection { try await $0.execute("DROP TABLE IF EXISTS \(table)") } } }
            let value = try await conn.transaction { tx in
                try await tx.execute("INSERT INTO \(table) VALUES (1), (2)")
                return 7
            }
            #expect(value == 7)
            // Visible from another session, so it was committed.
            let count = try await TestDatabase.withConnection { other in
                try #require(try await other.query("SELECT count(*) FROM \(table)").first).decode(Int64.self, column: 0)
            }
            #expect(count == 2)
        }
    }

    @Test func rollsBackOnThrowAndRethrowsTheOriginalError() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("txr")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8 PRIMARY KEY)")
            let error = try await #require(throws: Boom.self) {
                try await conn.transaction(isolation: .serializable) { tx in
                    try await tx.execute("INSERT INTO \(table) VALUES (1)")
                    throw Boom(tag: 3)
                }
            }
            #expect(error == Boom(tag: 3))
            let count = try #require(try await conn.query("SELECT count(*) FROM \(table) WHERE id = 1").first)
            #expect(try count.decode(Int64.self, column: 0) == 0)
            // The connection is idle again and usable for a new transaction.
            try await conn.transaction { tx in try await tx.execute("INSERT INTO \(table) VALUES (2)") }
            #expect(try #require(try await conn.query("SELECT count(*) FROM \(table)").first).decode(Int64.self, column: 0) == 1)
        }
    }

    @Test func swallowedStatementErrorMakesCommitThrow() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("txs")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8 PRIMARY KEY)")
            let error = try await #require(throws: PostgresError.self) {
                try await conn.transaction { tx in
                    try await tx.execute("INSERT INTO \(table) VALUES (1)")
                    _ = try? await tx.execute("INSERT INTO \(table) VALUES (1)")  // 23505, swallowed
                }
            }
            #expect(error.sqlState == "25P02")
            #expect(try #require(try await conn.query("SELECT count(*) FROM \(table)").first).decode(Int64.self, column: 0) == 0)
        }
    }

    @Test func uniqueViolationCarriesSQLStateDetailAndConstraint() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("uv")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8 CONSTRAINT \(table)_pk PRIMARY KEY, secret text)")
            try await conn.execute("INSERT INTO \(table) VALUES ($1, $2)", [Int64(5), "first"])
            let error = try await #require(throws: PostgresError.self) {
                try await conn.execute("INSERT INTO \(table) VALUES ($1, $2)", [Int64(5), "hunter2-secret-value"])
            }
            #expect(error.code == .server)
            #expect(error.sqlState == "23505")
            #expect(error.detail == "Key (id)=(5) already exists.")
            #expect(error.constraint == "\(table)_pk")
            #expect(error.query == "INSERT INTO \(table) VALUES ($1, $2)")
            #expect(error.description.contains("23505"))
            #expect(!error.description.contains("hunter2"), "parameter values must not leak into errors")
        }
    }
}
