import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason))
struct PostgresEncodingErrorTests {
    @Test func unencodableParameterFailsBeforeSendingAndNamesIt() async throws {
        try await TestDatabase.withConnection { conn in
            let tooEarly = PostgresTimestamp(microsecondsSinceUnixEpoch: Int64.min + 1)
            let error = try await #require(throws: PostgresError.self) {
                try await conn.query("SELECT $1::int8, $2::timestamptz", [Int64(1), tooEarly])
            }
            #expect(error.code == .encoding)
            #expect(error.message.hasPrefix("parameter $2"))
            var binds = PostgresBindings()
            try binds.append(Int64(1))
            #expect(throws: PostgresError.self) { try binds.append(tooEarly) }
            #expect(binds.count == 1)
            // A pipeline with a bad parameter sends nothing.
            let table = TestDatabase.uniqueName("encpipe")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8)")
            await #expect(throws: PostgresError.self) {
                try await conn.pipeline { p in
                    p.send("INSERT INTO \(table) VALUES (1)")
                    p.send("SELECT $1::timestamptz", [tooEarly])
                }
            }
            #expect(try #require(try await conn.query("SELECT count(*) FROM \(table)").first).decode(Int64.self, column: 0) == 0)
        }
    }
}
