import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason), .timeLimit(.minutes(2)))
struct PostgresCopyOutTests {
    @Test func binaryCopyOutStreamsEveryRowWithNullsAndTypes() async throws {
        try await TestDatabase.withConnection { conn in
            let rows = 50_000
            let sql = """
                COPY (SELECT g::int8, 'row-' || g || '-é', CASE WHEN g % 3 = 0 THEN NULL ELSE g * 0.5 END::float8,
                             timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond', g::int4
                      FROM generate_series(1, \(rows)) AS s(g) ORDER BY s.g) TO STDOUT (FORMAT binary)
                """
            var seen = 0
            var chunks = 0
            let reported = try await conn.copyOut(sql, chunkSize: 64 * 1024) { reader in
                var decoder = PostgresBinaryCopyDecoder()
                while let chunk = try await reader.next() {
                    chunks += 1
                    try decoder.decode(chunk) { row in
                        seen += 1
                        let g = Int64(seen)
                        let (id, score, time, small) = (try row.integer(0), try row.double(2), try row.timestamp(3), try row.integer(4))
                        #expect(row.fieldCount == 5)
                        #expect(id == g)
                        #expect(row.field(1).map { String(decoding: $0, as: UTF8.self) } == "row-\(g)-é")
                        #expect(score == (g % 3 == 0 ? nil : Double(g) * 0.5))
                        #expect(time?.microsecondsSinceUnixEpoch == 1_767_225_600_000_000 + g * 1_000)
                        #expect(small == g)
                    }
                }
                try decoder.finish()
                return reader.rowCount
            }
            #expect(seen == rows)
            #expect(reported == rows)
            #expect(chunks > 10, "64 KiB chunks: the rows arrive in many chunks")
            #expect(try await conn.query("SELECT 1").count == 1)
        }
    }

    @Test func copyOutStoppedEarlyLeavesTheSessionUsable() async throws {
        try await TestDatabase.withConnection { conn in
            let first = try await conn.copyOut("COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 2000000) g) TO STDOUT (FORMAT binary)",
                                               chunkSize: 16 * 1024) { reader in
                try await reader.next()?.count ?? 0
            }
            #expect(first >= 16 * 1024)
            let row = try #require(try await conn.query("SELECT 41 + 1").first)
            #expect(try row.decode(Int32.self, column: 0) == 42)
        }
    }

    @Test func copyOutErrorMidStreamCarriesTheSQLState() async throws {
        try await TestDatabase.withConnection { conn in
            do {
                try await conn.copyOut("COPY (SELECT 1 / (g - 50000) FROM generate_series(1, 100000) g) TO STDOUT (FORMAT binary)",
                                       chunkSize: 4 * 1024) { reader in
                    while try await reader.next() != nil {}
                }
                Issue.record("the division by zero should have failed the COPY")
            } catch let error as PostgresError {
                #expect(error.code == .server)
                #expect(error.sqlState == "22012")
            }
            #expect(try await conn.query("SELECT 1").count == 1)
        }
    }

    @Test func copyOutRefusesAStatementThatIsNotCopyToStdout() async throws {
        try await TestDatabase.withConnection { conn in
            do {
                try await conn.copyOut("SELECT 1") { reader in _ = try await reader.next() }
                Issue.record("SELECT is not a COPY")
            } catch let error as PostgresError {
                #expect(error.code == .protocolViolation)
            }
            #expect(try await conn.query("SELECT 1").count == 1)
        }
    }

    @Test func binaryDecoderCompletesRowsCutAcrossChunks() throws {
        // Header, one row (int4 7, NULL, text "ab"), trailer — fed one byte at a time.
        var bytes: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]
        bytes += [0, 3, 0, 0, 0, 4, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 2, 0x61, 0x62]
        bytes += [0xFF, 0xFF]
        var decoder = PostgresBinaryCopyDecoder()
        var rows: [String] = []
        for byte in bytes {
            try decoder.decode([byte]) { row in
                rows.append("\(try row.integer(0) ?? -1)|\(row.isNull(1))|\(row.field(2).map { String(decoding: $0, as: UTF8.self) } ?? "")")
            }
        }
        try decoder.finish()
        #expect(rows == ["7|true|ab"])
        #expect(decoder.isAtEnd)
    }
}
