import Foundation
import SluiceExport
import Testing

/// Writes CSV snapshots and reads them back with Python's csv module.
@Suite struct CSVWriterTests {
    typealias Table = ParquetWriterPyarrowTests.Table

    struct CSVReadBack: Decodable {
        struct Column: Decodable {
            var ints: [Int64?]?
            var strings: [String?]?
        }
        var header: [String]
        var rows: Int
        var columns: [Column]
    }

    static let pythonTypes = "double,double,float,int64,int32,bool,string,string,timestamp,timestamp"

    static func write(_ table: Table, to path: String, options: CSVWriterOptions) throws -> CSVWriter {
        let writer = try CSVWriter(path: path, schema: table.schema, options: options)
        for row in 0..<table.rows {
            var values: [ExportValue] = [
                .double(table.doubles[row]),
                table.optionalDoubles[row].map(ExportValue.double) ?? .null,
                table.floats[row].map(ExportValue.float) ?? .null,
                .int64(table.int64s[row]),
                table.int32s[row].map(ExportValue.int32) ?? .null,
                table.bools[row].map(ExportValue.bool) ?? .null,
                .string(table.strings[row]),
            ]
            values.append(table.optionalStrings[row].map(ExportValue.string) ?? .null)
            values.append(.timestamp(table.micros[row]))
            values.append(table.millis[row].map(ExportValue.timestamp) ?? .null)
            if row % 2 == 0 {
                try writer.append(row: values)
            } else {
                // The columnar calls, in column order.
                try writer.appendDouble(column: 0, table.doubles[row])
                if let value = table.optionalDoubles[row] { try writer.appendDouble(column: 1, value) } else { try writer.appendNull(column: 1) }
                if let value = table.floats[row] { try writer.appendFloat(column: 2, value) } else { try writer.appendNull(column: 2) }
                try writer.appendInt64(column: 3, table.int64s[row])
                if let value = table.int32s[row] { try writer.appendInt32(column: 4, value) } else { try writer.appendNull(column: 4) }
                if let value = table.bools[row] { try writer.appendBool(column: 5, value) } else { try writer.appendNull(column: 5) }
                try writer.appendString(column: 6, table.strings[row])
                if let value = table.optionalStrings[row] { try writer.appendString(column: 7, value) } else { try writer.appendNull(column: 7) }
                try writer.appendTimestamp(column: 8, table.micros[row])
                if let value = table.millis[row] { try writer.appendTimestamp(column: 9, value) } else { try writer.appendNull(column: 9) }
                try writer.endRow()
            }
        }
        try writer.close()
        return writer
    }

    static func floorMillis(_ micros: Int64) -> Int64 {
        (micros >= 0 ? micros / 1_000 : (micros - 999) / 1_000) * 1_000
    }

    static func expected(_ table: Table, fractionDigits: Int) -> [[Int64?]?] {
        let ints = ParquetWriterPyarrowTests.expectedInts(table)
        let noNaN = { (values: [Double?]) in values.map { $0.flatMap { $0.isNaN ? nil : $0 } } }
        let noNaNFloat = { (values: [Float?]) in values.map { $0.flatMap { $0.isNaN ? nil : $0 } } }
        return [
            ParquetWriterPyarrowTests.bits(noNaN(table.doubles.map { Optional($0) })),
            ParquetWriterPyarrowTests.bits(noNaN(table.optionalDoubles)),
            ParquetWriterPyarrowTests.bits(noNaNFloat(table.floats)),
            ints[3], ints[4], ints[5], nil, nil,
            table.micros.map { fractionDigits == 6 ? $0 : floorMillis($0) },
            table.millis.map { $0.map { $0 * 1_000 } },
        ]
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func everyColumnTypeRoundTripsThroughPythonCSV() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let table = ParquetWriterPyarrowTests.makeTable(rows: 3_000, seed: 11)
        for digits in [3, 6] {
            let path = directory.path("snapshot-\(digits).csv")
            var options = CSVWriterOptions()
            options.timestampFractionDigits = digits
            options.bufferBytes = 10_000  // many flushes
            let writer = try Self.write(table, to: path, options: options)
            #expect(writer.rowsWritten == 3_000)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            #expect(size.map(Int64.init) == writer.bytesWritten)
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))

            let data = try PythonReference.runScript("read_csv.py", [path, Self.pythonTypes])
            let read = try JSONDecoder().decode(CSVReadBack.self, from: data)
            #expect(read.header == table.schema.columns.map(\.name))
            #expect(read.rows == 3_000)
            let expected = Self.expected(table, fractionDigits: digits)
            for index in 0..<10 {
                if let ints = expected[index] {
                    #expect(firstDifference(read.columns[index].ints, ints) == nil, "column \(index), \(digits) fraction digits")
                }
            }
            #expect(firstDifference(read.columns[6].strings, table.strings.map { Optional($0) }) == nil)
            #expect(firstDifference(read.columns[7].strings, table.optionalStrings.map { $0 ?? "" }) == nil)
        }
    }

    @Test func quotingFollowsRFC4180AndEmptyStringDiffersFromNull() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("quoting.csv")
        let schema = try ParquetSchema([.optional("text, with comma", .string), .optional("x", .double)])
        let writer = try CSVWriter(path: path, schema: schema)
        try writer.append(row: [.string("say \"hi\""), .double(.nan)])
        try writer.append(row: [.string(""), .null])
        try writer.append(row: [.null, .double(-.infinity)])
        try writer.append(row: [.string("a\r\nb"), .double(0.1)])
        try writer.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expected = [
            "\"text, with comma\",x",
            "\"say \"\"hi\"\"\",",
            "\"\",",
            ",-inf",
            "\"a\r\nb\",0.1",
            "",
        ].joined(separator: "\r\n")
        #expect(text == expected)
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func timestampsMatchPythonDatetimeAcrossTheCalendar() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let path = directory.path("times.csv")
        let schema = try ParquetSchema([.required("t", .timestamp(.millis))])
        var random = SplitMix64(state: 5)
        // 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999Z, plus edges around the epoch and leap days.
        let first: Int64 = -62_135_596_800_000
        let last: Int64 = 253_402_300_799_999
        var values: [Int64] = [first, last, 0, -1, 1, 951_782_400_000, 951_868_799_999, 4_107_542_399_999, -2_203_891_200_001]
        for _ in 0..<5_000 {
            values.append(first + Int64(random.next() % UInt64(last - first)))
        }
        let writer = try CSVWriter(path: path, schema: schema)
        for value in values {
            try writer.appendTimestamp(column: 0, value)
            try writer.endRow()
        }
        try writer.close()
        let data = try PythonReference.runScript("read_csv.py", [path, "timestamp"])
        let read = try JSONDecoder().decode(CSVReadBack.self, from: data)
        #expect(firstDifference(read.columns[0].ints, values.map { $0 * 1_000 }) == nil)
    }
}
