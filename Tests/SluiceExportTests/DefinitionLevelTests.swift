import Foundation
import SluiceExport
import Testing

/// NULL patterns that hit every branch of the RLE / bit-packed hybrid
/// encoder (runs shorter and longer than 8 and 16, alternation, page cuts
/// inside runs), read back with pyarrow.
@Suite struct DefinitionLevelTests {
    static func pattern() -> [Bool] {
        var present: [Bool] = []
        var flag = false
        for run in [1, 7, 8, 9, 15, 16, 17, 23, 24, 100, 1_000, 3, 1, 1, 2, 64, 65, 5_000] {
            present += Array(repeating: flag, count: run)
            flag.toggle()
        }
        var random = SplitMix64(state: 17)
        for _ in 0..<3_000 { present.append(random.below(2) == 0) }  // alternation-heavy
        for index in 0..<2_000 { present.append(index % 9 != 0) }  // sparse nulls
        return present
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage), arguments: [ParquetCompression.uncompressed, .snappy])
    func nullPatternsRoundTrip(compression: ParquetCompression) throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let path = directory.path("levels.parquet")
        let schema = try ParquetSchema([.optional("value", .int32), .optional("flag", .bool)])
        var options = ParquetWriterOptions()
        options.pageBytes = 1_000  // pages end inside runs
        options.rowGroupRows = 4_000
        options.compression = compression
        let writer = try ParquetWriter(path: path, schema: schema, options: options)
        let present = Self.pattern()
        var expectedValues: [Int64?] = []
        var expectedFlags: [Int64?] = []
        for (row, isPresent) in present.enumerated() {
            if isPresent {
                try writer.appendInt32(column: 0, Int32(row))
                expectedValues.append(Int64(row))
            } else {
                try writer.appendNull(column: 0)
                expectedValues.append(nil)
            }
            // The bool column has the opposite null pattern.
            if isPresent {
                try writer.appendNull(column: 1)
                expectedFlags.append(nil)
            } else {
                try writer.appendBool(column: 1, row % 3 == 0)
                expectedFlags.append(row % 3 == 0 ? 1 : 0)
            }
            try writer.endRow()
        }
        try writer.close()
        #expect(writer.pagesWritten > 8)
        let read = try ParquetReadBack.read(path)
        #expect(read.num_rows == Int64(present.count))
        #expect(firstDifference(read.columns[0].ints, expectedValues) == nil)
        #expect(firstDifference(read.columns[1].ints, expectedFlags) == nil)
        if let duck = read.duckdb {
            #expect(firstDifference(duck.columns[0].ints, expectedValues) == nil)
            #expect(firstDifference(duck.columns[1].ints, expectedFlags) == nil)
        }
    }
}
