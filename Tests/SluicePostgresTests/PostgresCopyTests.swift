import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason))
struct PostgresCopyTests {
    @Test func binaryCopyOf100kRowsThenCountAndSpotCheck() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("copy")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8, ts timestamptz, label text, score float8, tags float8[], note text)")
            let rows = 100_000
            let copied = try await conn.copyInBinary("COPY \(table) (id, ts, label, score, tags, note) FROM STDIN (FORMAT binary)") { encoder in
                for i in 0..<rows {
                    try encoder.beginRow(fieldCount: 6)
                    encoder.write(Int64(i))
                    try encoder.write(PostgresTimestamp(microsecondsSinceUnixEpoch: 1_700_000_000_000_000 + Int64(i)))
                    try encoder.write("row-\(i)-é")
                    encoder.write(i % 1000 == 0 ? Double.nan : Double(i) * 0.5)
                    try encoder.write([Double(i), -Double(i)])
                    if i % 2 == 0 { encoder.writeNull() } else { try encoder.write("odd") }
                }
            }
            #expect(copied == rows)
            let summary = try #require(try await conn.query("""
                SELECT count(*), count(note), sum(id)::int8, min(ts), max(ts),
                       count(*) FILTER (WHERE score = 'NaN'), sum(tags[1])::int8
                FROM \(table)
                """).first)
            #expect(try summary.decode(Int64.self, column: 0) == Int64(rows))
            #expect(try summary.decode(Int64.self, column: 1) == Int64(rows / 2))
            #expect(try summary.decode(Int64.self, column: 2) == Int64(rows * (rows - 1) / 2))
            #expect(try summary.decode(PostgresTimestamp.self, column: 3).microsecondsSinceUnixEpoch == 1_700_000_000_000_000)
            #expect(try summary.decode(PostgresTimestamp.self, column: 4).microsecondsSinceUnixEpoch == 1_700_000_000_000_000 + Int64(rows - 1))
            #expect(try summary.decode(Int64.self, column: 5) == Int64(rows / 1000))
            #expect(try summary.decode(Int64.self, column: 6) == Int64(rows * (rows - 1) / 2))
            for i in [1, 4_321, 99_999] {
                let row = try #require(try await conn.query("SELECT label, score, tags, note FROM \(table) WHERE id = $1", [Int64(i)]).first)
                #expect(try row.decode(String.self, column: "label") == "row-\(i)-é")
                #expect(try row.decode(Double.self, column: "score") == Double(i) * 0.5)
                #expect(try row.decode([Double].self, column: "tags") == [Double(i), -Double(i)])
                #expect(try row.decode(String?.self, column: "note") == (i % 2 == 0 ? nil : "odd"))
            }
        }
    }

    /// Rows encoded before the COPY, in several parts larger than a chunk, arrive whole and in order.
    @Test func rowsEncodedAheadInPartsAreCopiedInOrder() async throws {
        var parts: [PostgresBinaryCopyRows] = []
        var next = 0
        for size in [1, 70_000, 0, 29_999] {
            var encoder = PostgresBinaryCopyEncoder.detached(capacity: 16)
            for _ in 0..<size {
                try encoder.beginRow(fieldCount: 3)
                encoder.write(Int64(next))
                try encoder.write("part-\(parts.count)-é")
                if next % 3 == 0 { encoder.writeNull() } else { encoder.write(Double(next) / 4) }
                next += 1
            }
            let rows = try encoder.encodedRows()
            #expect(rows.count == size)
            parts.append(rows)
        }
        var incomplete = PostgresBinaryCopyEncoder.detached()
        try incomplete.beginRow(fieldCount: 2)
        incomplete.write(Int64(1))
        #expect(throws: PostgresError.self) { try incomplete.encodedRows() }

        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("copyahead")
            try await conn.execute("CREATE TEMP TABLE \(table) (seq serial, id int8, label text, score float8)")
            let copied = try await conn.copyInBinary("COPY \(table) (id, label, score) FROM STDIN (FORMAT binary)", encoded: parts)
            #expect(copied == 100_000)
            let rows = try await conn.query("SELECT id, label, score FROM \(table) ORDER BY seq")
            #expect(try rows.map { try $0.decode(Int64.self, column: 0) } == (0..<100_000).map(Int64.init), "every row, in order")
            #expect(try rows[70_000].decode(String.self, column: 1) == "part-1-é")
            #expect(try rows[70_001].decode(String.self, column: 1) == "part-3-é")
            #expect(try rows[70_001].decode(Double?.self, column: 2) == 70_001.0 / 4)
            #expect(try rows[70_002].decode(Double?.self, column: 2) == nil)
        }
    }

    @Test func textCopy() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("copytext")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int4, name text)")
            let copied = try await conn.copyIn("COPY \(table) (id, name) FROM STDIN") { writer in
                for i in 0..<1000 { try writer.write("\(i)\tname \(i)\n") }
                try writer.write("1000\t\\N\n")
            }
            #expect(copied == 1001)
            let row = try #require(try await conn.query("SELECT count(*), count(name), max(name) FROM \(table)").first)
            #expect(try row.decode(Int64.self, column: 0) == 1001)
            #expect(try row.decode(Int64.self, column: 1) == 1000)
            #expect(try row.decode(String.self, column: 2) == "name 999")
        }
    }

    @Test func textRowsAreEscaped() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("copyesc")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int4, a text, b text)")
            let tricky = ["tab\there", "new\nline", "back\\slash \\N", "cr\r", "🚀 \"quoted\" 'single'"]
            let values = tricky
            try await conn.copyIn("COPY \(table) (id, a, b) FROM STDIN") { writer in
                for (index, value) in values.enumerated() {
                    try writer.writeTextRow(["\(index)", value, index % 2 == 0 ? nil : value])
                }
            }
            let rows = try await conn.query("SELECT a, b FROM \(table) ORDER BY id")
            #expect(try rows.map { try $0.decode(String.self, column: 0) } == tricky)
            #expect(try rows.map { try $0.decode(String?.self, column: 1) } == tricky.enumerated().map { $0.offset % 2 == 0 ? nil : $0.element })
        }
    }

    struct Abort: Error {}

    @Test func throwingBodyAbortsTheCopyAndInsertsNothing() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("copyabort")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8)")
            await #expect(throws: Abort.self) {
                try await conn.copyInBinary("COPY \(table) (id) FROM STDIN (FORMAT binary)") { encoder in
                    for i in 0..<100_000 {  // more than one chunk is sent before the throw
                        try encoder.beginRow(fieldCount: 1)
                        encoder.write(Int64(i))
                    }
                    throw Abort()
                }
            }
            let count = try #require(try await conn.query("SELECT count(*) FROM \(table)").first)
            #expect(try count.decode(Int64.self, column: 0) == 0)
        }
    }

    @Test func badDataFailsWithServerError() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("copybad")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8 NOT NULL)")
            let error = try await #require(throws: PostgresError.self) {
                try await conn.copyInBinary("COPY \(table) (id) FROM STDIN (FORMAT binary)") { encoder in
                    try encoder.beginRow(fieldCount: 1)
                    encoder.writeNull()
                }
            }
            #expect(error.sqlState == "23502")
            #expect(try await conn.query("SELECT 1::int4").first?.decode(Int32.self, column: 0) == 1)
        }
    }
}
