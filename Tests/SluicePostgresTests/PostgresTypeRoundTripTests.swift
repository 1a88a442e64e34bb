import Foundation
import SluicePostgres
import Testing

/// Every supported type, both directions: Swift → server (checked by the
/// server against a SQL literal) and server → Swift (decoding the server's own
/// value), plus the round trip through a parameter.
@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason))
struct PostgresTypeRoundTripTests {
    /// Sends `value` as $1, asks the server whether it equals `literal`, and decodes it back.
    private func check<T: PostgresEncodable & PostgresDecodable & Equatable>(
        _ conn: PostgresConnection, _ value: T, equals literal: String, sqlType: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let rows = try await conn.query(
            "SELECT $1::\(sqlType) AS v, $1::\(sqlType) IS NOT DISTINCT FROM (\(literal))::\(sqlType) AS same, (\(literal))::\(sqlType) AS lit",
            [value])
        let row = try #require(rows.first, sourceLocation: sourceLocation)
        #expect(try row.decode(Bool.self, column: "same"), "server saw a different value than \(literal) for \(value)", sourceLocation: sourceLocation)
        #expect(try row.decode(T.self, column: "v") == value, sourceLocation: sourceLocation)
        #expect(try row.decode(T.self, column: "lit") == value, sourceLocation: sourceLocation)
    }

    @Test func integersIncludingRangeEdges() async throws {
        try await TestDatabase.withConnection { conn in
            for value in [Int16.min, -1, 0, 1, Int16.max] { try await check(conn, value, equals: "'\(value)'", sqlType: "int2") }
            for value in [Int32.min, -1, 0, Int32.max] { try await check(conn, value, equals: "'\(value)'", sqlType: "int4") }
            for value in [Int64.min, -1, 0, Int64.max] { try await check(conn, value, equals: "'\(value)'", sqlType: "int8") }
            for value in [Int.min, 0, Int.max] { try await check(conn, value, equals: "'\(value)'", sqlType: "int8") }
            // Widening decodes.
            let row = try #require(try await conn.query("SELECT 7::int2 AS a, (-8)::int4 AS b").first)
            #expect(try row.decode(Int64.self, column: "a") == 7)
            #expect(try row.decode(Int.self, column: "b") == -8)
        }
    }

    @Test func integerNarrowingIsRangeChecked() async throws {
        try await TestDatabase.withConnection { conn in
            let row = try #require(try await conn.query("SELECT 40000::int8 AS big, 100::int8 AS small").first)
            #expect(try row.decode(Int16.self, column: "small") == 100)
            let error = try #require(throws: PostgresError.self) { try row.decode(Int16.self, column: "big") }
            #expect(error.code == .decoding)
            #expect(error.message.contains("40000"))
            #expect(error.message.contains("out of range for Int16"))
        }
    }

    @Test func floatsIncludingNaNAndInfinities() async throws {
        try await TestDatabase.withConnection { conn in
            for (value, literal) in [(0.0, "'0'"), (-1.5, "'-1.5'"), (Double.infinity, "'Infinity'"), (-Double.infinity, "'-Infinity'"),
                                     (Double.greatestFiniteMagnitude, "'1.7976931348623157e308'"), (Double.leastNonzeroMagnitude, "'4.9406564584124654e-324'")] {
                try await check(conn, value, equals: literal, sqlType: "float8")
            }
            for (value, literal) in [(Float(0.25), "'0.25'"), (Float.infinity, "'Infinity'"), (-Float.infinity, "'-Infinity'")] {
                try await check(conn, value, equals: literal, sqlType: "float4")
            }
            // NaN: not equal to itself, so check the server's view and the decoded value separately.
            let row = try #require(try await conn.query(
                "SELECT $1::float8 AS d, $1::float8 = 'NaN'::float8 AS dnan, $2::float4 AS f, $2::float4 = 'NaN'::float4 AS fnan, 'NaN'::float8 AS lit",
                [Double.nan, Float.nan]).first)
            #expect(try row.decode(Bool.self, column: "dnan"))  // PostgreSQL treats NaN = NaN as true
            #expect(try row.decode(Bool.self, column: "fnan"))
            #expect(try row.decode(Double.self, column: "d").isNaN)
            #expect(try row.decode(Float.self, column: "f").isNaN)
            #expect(try row.decode(Double.self, column: "lit").isNaN)
        }
    }

    @Test func boolAndNull() async throws {
        try await TestDatabase.withConnection { conn in
            try await check(conn, true, equals: "true", sqlType: "bool")
            try await check(conn, false, equals: "false", sqlType: "bool")
            let missing: Int64? = nil
            let present: Int64? = 42
            let row = try #require(try await conn.query(
                "SELECT $1::int8 AS a, $1::int8 IS NULL AS a_null, $2::int8 AS b, $3::text IS NULL AS untyped_null, NULL::text AS t",
                [missing, present, nil]).first)
            #expect(try row.decode(Int64?.self, column: "a") == nil)
            #expect(try row.decode(Bool.self, column: "a_null"))
            #expect(try row.decode(Int64?.self, column: "b") == 42)
            #expect(try row.decode(Bool.self, column: "untyped_null"))
            #expect(try row.decode(String?.self, column: "t") == nil)
            #expect(row.isNull(column: 0))
            let error = try #require(throws: PostgresError.self) { try row.decode(String.self, column: "t") }
            #expect(error.message.contains("NULL"))
        }
    }

    @Test func textUnicodeAndInjectionLikeValues() async throws {
        try await TestDatabase.withConnection { conn in
            for value in ["", "plain", "héllo wörld", "emoji 🚀👩‍👩‍👧 ok", "'; DROP TABLE x; --", "line1\nline2\t\\"] {
                let literal = "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
                try await check(conn, value, equals: literal, sqlType: "text")
            }
            let row = try #require(try await conn.query("SELECT 'abc'::varchar(10) AS v, 'n'::name AS n, 'x'::char(3) AS c").first)
            #expect(try row.decode(String.self, column: "v") == "abc")
            #expect(try row.decode(String.self, column: "n") == "n")
            #expect(try row.decode(String.self, column: "c") == "x  ")
        }
    }

    @Test func injectionLikeValueRoundTripsThroughATable() async throws {
        try await TestDatabase.withConnection { conn in
            let table = TestDatabase.uniqueName("inj")
            try await conn.execute("CREATE TEMP TABLE \(table) (id int8 PRIMARY KEY, s text)")
            let evil = "'; DROP TABLE \(table); --"
            try await conn.execute("INSERT INTO \(table) VALUES ($1, $2)", [Int64(1), evil])
            let stored = try #require(try await conn.query("SELECT s FROM \(table) WHERE s = $1", [evil]).first)
            #expect(try stored.decode(String.self, column: 0) == evil)
            let count = try #require(try await conn.query("SELECT count(*) FROM \(table)").first)
            #expect(try count.decode(Int64.self, column: 0) == 1)
        }
    }

    @Test func nulInTextIsRejectedByTheServer() async throws {
        try await TestDatabase.withConnection { conn in
            let error = try await #require(throws: PostgresError.self) {
                try await conn.query("SELECT $1::text", ["a\u{0}b"])
            }
            #expect(error.code == .server)
            #expect(error.sqlState == "22021")
            #expect(error.message.contains("0x00"))
            // The connection stays usable.
            #expect(try await conn.query("SELECT 1::int4").first?.decode(Int32.self, column: 0) == 1)
        }
    }

    @Test func bytea() async throws {
        try await TestDatabase.withConnection { conn in
            try await check(conn, [UInt8](), equals: "''::bytea", sqlType: "bytea")
            try await check(conn, [UInt8(0), 1, 0x7f, 0x80, 0xff], equals: "'\\x00017f80ff'::bytea", sqlType: "bytea")
            let all = (0...255).map { UInt8($0) }
            let row = try #require(try await conn.query("SELECT $1::bytea AS b, length($1::bytea) AS n, md5($1::bytea) = md5(decode($2, 'hex')) AS same",
                                                       [all, all.map { String(format: "%02x", $0) }.joined()]).first)
            #expect(try row.decode([UInt8].self, column: "b") == all)
            #expect(try row.decode(Int32.self, column: "n") == 256)
            #expect(try row.decode(Bool.self, column: "same"))
        }
    }

    @Test func timestamptzIncludingInfinity() async throws {
        try await TestDatabase.withConnection { conn in
            try await conn.execute("SET TIME ZONE 'UTC'")
            try await check(conn, PostgresTimestamp(microsecondsSinceUnixEpoch: 0), equals: "'1970-01-01 00:00:00+00'", sqlType: "timestamptz")
            try await check(conn, PostgresTimestamp(microsecondsSinceUnixEpoch: 1_700_000_000_123_456),
                            equals: "'2023-11-14 22:13:20.123456+00'", sqlType: "timestamptz")
            try await check(conn, PostgresTimestamp(microsecondsSinceUnixEpoch: -1), equals: "'1969-12-31 23:59:59.999999+00'", sqlType: "timestamptz")
            try await check(conn, PostgresTimestamp.infinity, equals: "'infinity'", sqlType: "timestamptz")
            try await check(conn, PostgresTimestamp.negativeInfinity, equals: "'-infinity'", sqlType: "timestamptz")
            // Foundation Date convenience, checked against the server's epoch extraction.
            let date = Date(timeIntervalSince1970: 1_234_567_890.5)
            let row = try #require(try await conn.query("SELECT extract(epoch FROM $1::timestamptz)::float8 AS e, $1::timestamptz AS t",
                                                       [PostgresTimestamp(date)]).first)
            #expect(try row.decode(Double.self, column: "e") == 1_234_567_890.5)
            #expect(try row.decode(PostgresTimestamp.self, column: "t").date == date)
            // timestamp without time zone decodes too.
            let plain = try #require(try await conn.query("SELECT '2000-01-01 00:00:01'::timestamp").first)
            #expect(try plain.decode(PostgresTimestamp.self, column: 0).microsecondsSinceUnixEpoch == 946_684_801_000_000)
        }
    }

    @Test func jsonb() async throws {
        try await TestDatabase.withConnection { conn in
            let value = PostgresJSONB(#"{"a": 1, "b": [true, null, "ü🚀"]}"#)
            let row = try #require(try await conn.query(
                "SELECT $1::jsonb AS j, $1::jsonb = $2::jsonb AS same, ($1::jsonb)->'b'->>2 AS inner, '{\"x\":2}'::json AS plain",
                [value, #"{"b":[true,null,"ü🚀"],"a":1}"#]).first)
            #expect(try row.decode(Bool.self, column: "same"))
            #expect(try row.decode(String.self, column: "inner") == "ü🚀")
            let decoded = try row.decode(PostgresJSONB.self, column: "j")
            let serverText = try #require(try await conn.query("SELECT ($1::jsonb)::text", [value]).first).decode(String.self, column: 0)
            #expect(decoded.text == serverText)
            #expect(try row.decode(PostgresJSONB.self, column: "plain").text == #"{"x":2}"#)
        }
    }

    @Test func arraysIncludingEmptyAndNullElements() async throws {
        try await TestDatabase.withConnection { conn in
            try await check(conn, [1.5, -2.25, Double.infinity], equals: "ARRAY[1.5, -2.25, 'Infinity']::float8[]", sqlType: "float8[]")
            try await check(conn, [Double](), equals: "'{}'::float8[]", sqlType: "float8[]")
            try await check(conn, [Int64.min, 0, Int64.max], equals: "ARRAY[-9223372036854775808, 0, 9223372036854775807]::int8[]", sqlType: "int8[]")
            try await check(conn, [Int64](), equals: "'{}'::int8[]", sqlType: "int8[]")
            try await check(conn, ["a", "", "🚀", "'; DROP TABLE x; --"], equals: "ARRAY['a', '', '🚀', '''; DROP TABLE x; --']", sqlType: "text[]")
            try await check(conn, [String](), equals: "'{}'::text[]", sqlType: "text[]")
            try await check(conn, [Double?]([1, nil, 3]), equals: "ARRAY[1, NULL, 3]::float8[]", sqlType: "float8[]")
            try await check(conn, [String?]([nil, "x"]), equals: "ARRAY[NULL, 'x']", sqlType: "text[]")
            try await check(conn, [Int32(1), -2], equals: "ARRAY[1, -2]::int4[]", sqlType: "int4[]")
            try await check(conn, [true, false], equals: "ARRAY[true, false]", sqlType: "bool[]")
            // NULL elements into a non-optional element type: clear error.
            let row = try #require(try await conn.query("SELECT ARRAY[1, NULL]::float8[] AS a, ARRAY[[1,2],[3,4]]::int8[] AS m").first)
            let error = try #require(throws: PostgresError.self) { try row.decode([Double].self, column: "a") }
            #expect(error.message.contains("[Double?]"))
            #expect(try row.decode([Double?].self, column: "a") == [1, nil])
            #expect(throws: PostgresError.self) { try row.decode([Int64].self, column: "m") }
        }
    }

    @Test func wrongTypeErrorNamesColumnTypeAndSwiftType() async throws {
        try await TestDatabase.withConnection { conn in
            let row = try #require(try await conn.query("SELECT 'x'::text AS label, 1.5::float8 AS score").first)
            let error = try #require(throws: PostgresError.self) { try row.decode(Int64.self, column: "label") }
            #expect(error.code == .decoding)
            #expect(error.message.contains("'label'"))
            #expect(error.message.contains("text"))
            #expect(error.message.contains("oid 25"))
            #expect(error.message.contains("Int64"))
            let missing = try #require(throws: PostgresError.self) { try row.decode(Int64.self, column: "nope") }
            #expect(missing.message.contains("nope"))
            #expect(throws: PostgresError.self) { try row.decode(Float.self, column: "score") }
        }
    }

    /// Arrays written element by element (`appendArray`) reach the server as the same values as arrays of Swift values,
    /// including empty arrays, empty elements and non-ASCII text; an element that fails leaves no parameter behind.
    @Test func arraysWrittenElementByElementEqualArraysOfValues() async throws {
        try await TestDatabase.withConnection { conn in
            let texts = ["a", "", "é\u{1F600}", "x'; DROP TABLE t; --"]
            let ints: [Int32] = [0, -1, .max, .min]
            let blobs: [[UInt8]] = [[], [0, 1, 255], Array(repeating: 7, count: 1_000), [0]]
            let times = [PostgresTimestamp(millisecondsSinceUnixEpoch: 0), PostgresTimestamp(millisecondsSinceUnixEpoch: 1_700_000_000_123),
                         PostgresTimestamp(millisecondsSinceUnixEpoch: -86_400_000), PostgresTimestamp(millisecondsSinceUnixEpoch: 4_102_444_800_000)]
            for count in [0, 1, 4] {
                var binds = PostgresBindings(capacity: 16)
                try binds.appendArray(of: .text, as: .textArray, count: count) { i, buffer in buffer.writeString(texts[i]) }
                try binds.appendArray(of: .int4, as: .int4Array, count: count) { i, buffer in buffer.writeInteger(ints[i]) }
                try binds.appendArray(of: .bytea, as: .byteaArray, count: count) { i, buffer in buffer.writeBytes(blobs[i]) }
                try binds.appendArray(of: .timestamptz, as: .timestamptzArray, count: count) { i, buffer in try times[i].encode(into: &buffer) }
                try binds.append(Array(texts.prefix(count)))
                try binds.append(Array(ints.prefix(count)))
                try binds.append(blobs.prefix(count).map(PostgresBytea.init))
                try binds.append(Array(times.prefix(count)))
                let row = try #require(try await conn.query("""
                    SELECT $1::text[] = $5::text[] AND $2::int4[] = $6::int4[] AND $3::bytea[] = $7::bytea[] AND $4::timestamptz[] = $8::timestamptz[],
                           cardinality($1::text[]), $3::bytea[]
                    """, binds).first)
                #expect(try row.decode(Bool.self, column: 0), "\(count) elements")
                #expect(try row.decode(Int32.self, column: 1) == Int32(count))
                #expect(try row.decode([PostgresBytea].self, column: 2).map(\.bytes) == Array(blobs.prefix(count)))
            }
            var binds = PostgresBindings()
            struct Refused: Error {}
            #expect(throws: PostgresError.self) {
                try binds.appendArray(of: .text, as: .textArray, count: 3) { i, buffer in
                    if i == 2 { throw Refused() }
                    buffer.writeString("kept?")
                }
            }
            #expect(binds.count == 0, "a failed array adds no parameter")
            try binds.append("after")
            #expect(try await conn.query("SELECT $1::text", binds).first?.decode(String.self, column: 0) == "after")
        }
    }
}
