import Foundation
import SluiceExport
import Testing

/// Writes Parquet files with every column type and reads them back with
/// pyarrow (and DuckDB), comparing exact values, schema and statistics.
@Suite struct ParquetWriterPyarrowTests {
    /// A generated table kept as plain Swift arrays (the expected values).
    struct Table {
        var schema: ParquetSchema
        var doubles: [Double] = []
        var optionalDoubles: [Double?] = []
        var floats: [Float?] = []
        var int64s: [Int64] = []
        var int32s: [Int32?] = []
        var bools: [Bool?] = []
        var strings: [String] = []
        var optionalStrings: [String?] = []
        var micros: [Int64] = []
        var millis: [Int64?] = []
        var rows: Int { doubles.count }
    }

    static let schema: ParquetSchema = {
        do {
            return try ParquetSchema([
                .required("d_req", .double),
                .optional("d_opt", .double),
                .optional("f_opt", .float),
                .required("i64", .int64),
                .optional("i32_opt", .int32),
                .optional("b_opt", .bool),
                .required("s_req", .string),
                .optional("s_opt", .string),
                .required("ts_us", .timestamp(.micros)),
                .optional("ts_ms_opt", .timestamp(.millis)),
            ])
        } catch {
            fatalError("static schema is valid: \(error)")
        }
    }()

    static let specialDoubles: [Double] = [
        .nan, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, 1e-300, 0.1,
    ]
    static let specialStrings = ["", "a", "é", "日本語", "emoji 🚀", "comma,quote\"", "line\nbreak", "\u{0}nul"]

    static func makeTable(rows: Int, seed: UInt64) -> Table {
        var random = SplitMix64(state: seed)
        var table = Table(schema: schema)
        for row in 0..<rows {
            let pick = random.below(20)
            table.doubles.append(pick == 0 ? specialDoubles[random.below(specialDoubles.count)] : random.unit() * 200 - 100)
            table.optionalDoubles.append(
                pick < 3 ? nil : pick < 6 ? specialDoubles[random.below(specialDoubles.count)] : random.unit())
            table.floats.append(
                pick == 4 ? nil : pick == 5 ? Float.nan : pick == 6 ? -Float.infinity : Float(random.unit() * 10))
            table.int64s.append(
                row == 0 ? Int64.min : row == 1 ? Int64.max : Int64(bitPattern: random.next()))
            table.int32s.append(pick == 7 ? nil : Int32(truncatingIfNeeded: Int64(bitPattern: random.next())))
            table.bools.append(pick < 2 ? nil : random.below(2) == 0)
            table.strings.append(
                pick < 4 ? specialStrings[random.below(specialStrings.count)] : "entity-\(random.below(1_000_000))")
            table.optionalStrings.append(
                pick == 8 ? nil : pick == 9 ? specialStrings[random.below(specialStrings.count)]
                    : "topic/\(random.below(12))/\(row)")
            table.micros.append(row == 2 ? -1_234_567 : 1_700_000_000_000_000 + Int64(random.below(1 << 40)))
            table.millis.append(pick == 10 ? nil : 1_700_000_000_000 + Int64(random.below(1 << 30)) - (1 << 29))
        }
        return table
    }

    static func write(_ table: Table, to path: String, options: ParquetWriterOptions) throws -> ParquetWriter {
        let writer = try ParquetWriter(path: path, schema: table.schema, options: options)
        for row in 0..<table.rows {
            // Columns in a scrambled order: the Parquet writer accepts any order within a row.
            try writer.appendString(column: 6, table.strings[row])
            try writer.appendDouble(column: 0, table.doubles[row])
            if let value = table.optionalDoubles[row] {
                try writer.appendDouble(column: 1, value)
            } else {
                try writer.appendNull(column: 1)
            }
            if let value = table.floats[row] { try writer.appendFloat(column: 2, value) } else { try writer.appendNull(column: 2) }
            try writer.appendInt64(column: 3, table.int64s[row])
            if let value = table.int32s[row] { try writer.appendInt32(column: 4, value) } else { try writer.appendNull(column: 4) }
            if let value = table.bools[row] { try writer.appendBool(column: 5, value) } else { try writer.appendNull(column: 5) }
            if let value = table.optionalStrings[row] {
                try appendUTF8(writer, column: 7, value)
            } else {
                try writer.appendNull(column: 7)
            }
            try writer.appendTimestamp(column: 8, table.micros[row])
            if let value = table.millis[row] { try writer.appendTimestamp(column: 9, value) } else { try writer.appendNull(column: 9) }
            try writer.endRow()
        }
        try writer.close()
        return writer
    }

    /// Exercises the byte-buffer string API.
    static func appendUTF8(_ writer: ParquetWriter, column: Int, _ value: String) throws {
        var value = value
        let failure = value.withUTF8 { (utf8) -> ExportError? in
            do throws(ExportError) {
                try writer.appendString(column: column, utf8: UnsafeRawBufferPointer(utf8))
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    static func bits(_ values: [Double?]) -> [Int64?] {
        values.map { $0.map { Int64(bitPattern: $0.bitPattern) } }
    }

    static func bits(_ values: [Float?]) -> [Int64?] {
        values.map { $0.map { Int64(Int32(bitPattern: $0.bitPattern)) } }
    }

    /// The expected column values in the read-back encoding (bit patterns, 0/1, integers).
    static func expectedInts(_ table: Table) -> [Int: [Int64?]] {
        [
            0: bits(table.doubles.map { Optional($0) }),
            1: bits(table.optionalDoubles),
            2: bits(table.floats),
            3: table.int64s.map { Optional($0) },
            4: table.int32s.map { $0.map { Int64($0) } },
            5: table.bools.map { $0.map { $0 ? 1 : 0 } },
            8: table.micros.map { Optional($0) },
            9: table.millis,
        ]
    }

    static func expectedStrings(_ table: Table) -> [Int: [String?]] {
        [6: table.strings.map { Optional($0) }, 7: table.optionalStrings]
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func everyColumnTypeRoundTripsThroughPyarrowAndDuckDB() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let path = directory.path("snapshot.parquet")
        let table = Self.makeTable(rows: 5_000, seed: 42)
        var options = ParquetWriterOptions()
        options.rowGroupRows = 1_500
        options.pageBytes = 2_048
        options.keyValueMetadata = [(key: "sluice.snapshot_id", value: "snap-0001"), (key: "note", value: "ünïcode")]
        let writer = try Self.write(table, to: path, options: options)

        #expect(writer.rowsWritten == 5_000)
        #expect(writer.rowGroupsWritten == 4)
        #expect(writer.pagesWritten > 4 * 10, "small pageBytes must split chunks into several pages")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size.map(Int64.init) == writer.bytesWritten)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))

        let read = try ParquetReadBack.read(path)
        #expect(read.num_rows == 5_000)
        #expect(read.row_groups == [1_500, 1_500, 1_500, 500])
        #expect(read.created_by == "sluice version 0.1.0")
        #expect(read.metadata["sluice.snapshot_id"] == "snap-0001")
        #expect(read.metadata["note"] == "ünïcode")

        let expectedTypes = [
            "double", "double", "float", "int64", "int32", "bool", "string", "string",
            "timestamp[us, tz=UTC]", "timestamp[ms, tz=UTC]",
        ]
        #expect(read.columns.map(\.name) == table.schema.columns.map(\.name))
        #expect(read.columns.map(\.type) == expectedTypes)
        #expect(read.columns.map(\.nullable) == table.schema.columns.map(\.isOptional))

        #expect(read.columns.map(\.physical) == [
            "DOUBLE", "DOUBLE", "FLOAT", "INT64", "INT32", "BOOLEAN", "BYTE_ARRAY", "BYTE_ARRAY", "INT64", "INT64",
        ])
        #expect(read.columns.map(\.converted) == [
            "NONE", "NONE", "NONE", "NONE", "NONE", "NONE", "UTF8", "UTF8", "TIMESTAMP_MICROS", "TIMESTAMP_MILLIS",
        ])
        #expect(read.columns[6].logical == "String")
        #expect(read.columns[8].logical.contains("isAdjustedToUTC=true"))
        #expect(read.columns[8].logical.contains("timeUnit=microseconds"))
        #expect(read.columns[9].logical.contains("timeUnit=milliseconds"))

        let ints = Self.expectedInts(table)
        let strings = Self.expectedStrings(table)
        for (index, column) in read.columns.enumerated() {
            if let expected = ints[index] {
                #expect(firstDifference(column.ints, expected) == nil, "column \(column.name)")
            } else {
                #expect(firstDifference(column.strings, strings[index]) == nil, "column \(column.name)")
            }
            #expect(column.stats.allSatisfy { $0.compression == "UNCOMPRESSED" })
            let encodings = table.schema.columns[index].isOptional ? ["PLAIN", "RLE"] : ["PLAIN"]
            #expect(column.stats.allSatisfy { $0.encodings == encodings }, "column \(column.name)")
            #expect(column.stats.map(\.num_values) == read.row_groups)
        }
        Self.expectContiguousChunks(read)

        // DuckDB is in requirements-export.txt; without CI it may be missing.
        if PythonReference.isCI { try #require(read.duckdb != nil, "duckdb must be installed in CI") }
        if let duck = read.duckdb {
            #expect(
                duck.types == [
                    "DOUBLE", "DOUBLE", "FLOAT", "BIGINT", "INTEGER", "BOOLEAN", "VARCHAR", "VARCHAR",
                    "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE",
                ])
            for (index, column) in duck.columns.enumerated() {
                if index == 9 {
                    #expect(firstDifference(column.ints, table.millis.map { $0.map { $0 * 1_000 } }) == nil, "duckdb column \(column.name)")
                } else if let expected = ints[index] {
                    #expect(firstDifference(column.ints, expected) == nil, "duckdb column \(column.name)")
                } else {
                    #expect(firstDifference(column.strings, strings[index]) == nil, "duckdb column \(column.name)")
                }
            }
        }
    }

    /// The column chunks tile the file from byte 4 to the footer without gaps
    /// or overlaps, so the sizes and offsets in the metadata are exact.
    static func expectContiguousChunks(_ read: ParquetReadBack) {
        var offset: Int64 = 4
        for group in read.row_groups.indices {
            for column in read.columns {
                let stat = column.stats[group]
                #expect(stat.data_page_offset == offset, "\(column.name) in row group \(group)")
                #expect(stat.total_compressed_size > 0)
                offset += stat.total_compressed_size
            }
        }
        #expect(offset + read.footer_length + 8 == read.file_size, "chunks + footer + length + magic = file")
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func statisticsMatchEachRowGroupAndExcludeNaN() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let path = directory.path("stats.parquet")
        let table = Self.makeTable(rows: 3_000, seed: 7)
        var options = ParquetWriterOptions()
        options.rowGroupRows = 1_000
        _ = try Self.write(table, to: path, options: options)
        let read = try ParquetReadBack.read(path)
        try #require(read.row_groups == [1_000, 1_000, 1_000])

        let ints = Self.expectedInts(table)
        let strings = Self.expectedStrings(table)
        for (index, column) in read.columns.enumerated() {
            for group in 0..<3 {
                let stat = column.stats[group]
                let range = group * 1_000..<(group + 1) * 1_000
                if let all = ints[index] {
                    let slice = Array(all[range])
                    #expect(stat.null_count == Int64(slice.filter { $0 == nil }.count), "\(column.name) rg \(group)")
                    let present = slice.compactMap { $0 }
                    switch index {
                    case 0, 1:
                        let values = present.map { Double(bitPattern: UInt64(bitPattern: $0)) }.filter { !$0.isNaN }
                        #expect(stat.has_min_max == !values.isEmpty)
                        if let low = values.min(), let high = values.max() {
                            let bound = { (v: Int64?) in Double(bitPattern: UInt64(bitPattern: v ?? 0)) }
                            #expect(bound(stat.min?.int) == low, "\(column.name) min")
                            #expect(bound(stat.max?.int) == high, "\(column.name) max")
                            // A zero minimum is written as -0.0 and a zero maximum as +0.0.
                            if low == 0 { #expect(bound(stat.min?.int).sign == .minus) }
                            if high == 0 { #expect(bound(stat.max?.int).sign == .plus) }
                        }
                    case 2:
                        let values = present.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }.filter { !$0.isNaN }
                        let bound = { (v: Int64?) in Float(bitPattern: UInt32(truncatingIfNeeded: v ?? 0)) }
                        #expect(bound(stat.min?.int) == values.min(), "\(column.name) min")
                        #expect(bound(stat.max?.int) == values.max(), "\(column.name) max")
                    default:
                        #expect(stat.min?.int == present.min(), "\(column.name) min rg \(group)")
                        #expect(stat.max?.int == present.max(), "\(column.name) max rg \(group)")
                    }
                } else if let all = strings[index] {
                    let slice = Array(all[range])
                    #expect(stat.null_count == Int64(slice.filter { $0 == nil }.count))
                    let present = slice.compactMap { $0 }
                    // Parquet orders strings by unsigned UTF-8 bytes.
                    let byteOrder = { (a: String, b: String) in a.utf8.lexicographicallyPrecedes(b.utf8) }
                    #expect(stat.min?.str == present.min(by: byteOrder), "\(column.name) min rg \(group)")
                    #expect(stat.max?.str == present.max(by: byteOrder), "\(column.name) max rg \(group)")
                }
            }
        }
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func snappyCompressedFileReadsBackIdentically() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let path = directory.path("snappy.parquet")
        let plainPath = directory.path("plain.parquet")
        let table = Self.makeTable(rows: 4_000, seed: 99)
        var options = ParquetWriterOptions()
        options.rowGroupRows = 2_500
        options.pageBytes = 4_096
        let plain = try Self.write(table, to: plainPath, options: options)
        options.compression = .snappy
        let snappy = try Self.write(table, to: path, options: options)
        #expect(snappy.bytesWritten < plain.bytesWritten, "repetitive strings and timestamps must compress")

        let read = try ParquetReadBack.read(path)
        #expect(read.row_groups == [2_500, 1_500])
        let ints = Self.expectedInts(table)
        let strings = Self.expectedStrings(table)
        for (index, column) in read.columns.enumerated() {
            if let expected = ints[index] {
                #expect(firstDifference(column.ints, expected) == nil, "column \(column.name)")
            } else {
                #expect(firstDifference(column.strings, strings[index]) == nil, "column \(column.name)")
            }
            #expect(column.stats.allSatisfy { $0.compression == "SNAPPY" })
            if column.name == "s_req" || column.name == "s_opt" {
                // Repetitive text must shrink.
                #expect(column.stats.allSatisfy { $0.total_uncompressed_size > $0.total_compressed_size })
            }
        }
        Self.expectContiguousChunks(read)
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func emptySnapshotAndAllNullColumnAreReadable() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let schema = try ParquetSchema([.optional("maybe", .double), .required("id", .string)])

        let emptyPath = directory.path("empty.parquet")
        let empty = try ParquetWriter(path: emptyPath, schema: schema)
        try empty.close()
        let readEmpty = try ParquetReadBack.read(emptyPath)
        #expect(readEmpty.num_rows == 0)
        #expect(readEmpty.row_groups.isEmpty)
        #expect(readEmpty.columns.map(\.type) == ["double", "string"])

        let nullPath = directory.path("nulls.parquet")
        let nulls = try ParquetWriter(path: nullPath, schema: schema)
        for row in 0..<100 {
            try nulls.appendNull(column: 0)
            try nulls.appendString(column: 1, "id-\(row)")
            try nulls.endRow()
        }
        try nulls.close()
        let readNulls = try ParquetReadBack.read(nullPath)
        #expect(firstDifference(readNulls.columns[0].ints, Array(repeating: nil, count: 100)) == nil)
        #expect(readNulls.columns[0].stats.first?.null_count == 100)
        #expect(readNulls.columns[0].stats.first?.has_min_max == false)
        #expect(firstDifference(readNulls.columns[1].strings, (0..<100).map { "id-\($0)" }) == nil)
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func longStringsAreStoredButKeepNoMinMax() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let path = directory.path("long.parquet")
        let schema = try ParquetSchema([.required("short", .string), .required("long", .string)])
        var options = ParquetWriterOptions()
        options.maxStringStatisticsBytes = 16
        let writer = try ParquetWriter(path: path, schema: schema, options: options)
        let long = (0..<50).map { String(repeating: "ü", count: 10 + $0) + "\($0)" }
        for row in 0..<50 {
            try writer.appendString(column: 0, "k\(row % 10)")
            try writer.appendString(column: 1, long[row])
            try writer.endRow()
        }
        try writer.close()
        let read = try ParquetReadBack.read(path)
        #expect(firstDifference(read.columns[1].strings, long) == nil)
        #expect(read.columns[0].stats[0].has_min_max)
        #expect(read.columns[0].stats[0].min?.str == "k0")
        #expect(read.columns[0].stats[0].max?.str == "k9")
        #expect(read.columns[1].stats[0].has_min_max == false, "min/max longer than 16 bytes are left out")
    }
}
