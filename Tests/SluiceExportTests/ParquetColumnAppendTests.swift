import Foundation
import SluiceExport
import Testing

/// The column-at-a-time calls write exactly the file the row-at-a-time calls write.
@Suite struct ParquetColumnAppendTests {
    static let schema: ParquetSchema = {
        do {
            return try ParquetSchema([
                .required("id", .string), .optional("score", .double), .required("at", .timestamp(.millis)),
                .optional("n", .int64), .optional("flag", .bool), .optional("name", .string),
            ])
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    struct Row {
        var id: String
        var score: Double?
        var at: Int64
        var n: Int64?
        var flag: Bool?
        var name: String?
    }

    static func rows(_ count: Int) -> [Row] {
        (0..<count).map { (i: Int) -> Row in
            let score: Double? = i % 7 == 0 ? nil : Double(i) / 3
            let n: Int64? = i % 5 == 0 ? nil : Int64(i * i)
            let flag: Bool? = i % 3 == 0 ? nil : i % 2 == 0
            let name: String? = i % 4 == 0 ? nil : "n\(i % 11)"
            return Row(id: "row-\(i)", score: score, at: 1_700_000_000_000 + Int64(i), n: n, flag: flag, name: name)
        }
    }

    static func options() -> ParquetWriterOptions {
        var options = ParquetWriterOptions()
        options.rowGroupRows = 1_000
        options.pageBytes = 4_096
        options.compression = .snappy
        return options
    }

    @Test func columnAtATimeWritesTheSameBytesAsRowAtATime() throws {
        let directory = try TemporaryDirectory()
        let rows = Self.rows(3_500)
        let byRow = try ParquetWriter(path: directory.path("rows.parquet"), schema: Self.schema, options: Self.options())
        for row in rows {
            try byRow.appendString(column: 0, row.id)
            if let score = row.score { try byRow.appendDouble(column: 1, score) } else { try byRow.appendNull(column: 1) }
            try byRow.appendTimestamp(column: 2, row.at)
            if let n = row.n { try byRow.appendInt64(column: 3, n) } else { try byRow.appendNull(column: 3) }
            if let flag = row.flag { try byRow.appendBool(column: 4, flag) } else { try byRow.appendNull(column: 4) }
            if let name = row.name { try byRow.appendString(column: 5, name) } else { try byRow.appendNull(column: 5) }
            try byRow.endRow()
        }
        try byRow.close()

        let byColumn = try ParquetWriter(path: directory.path("columns.parquet"), schema: Self.schema, options: Self.options())
        var start = 0
        let ids = rows.map { Array($0.id.utf8) }
        let names = rows.map { $0.name.map { Array($0.utf8) } }
        while start < rows.count {
            // Uneven batches that cross row-group boundaries only where the writer allows.
            let count = min(byColumn.rowsLeftInRowGroup, 333, rows.count - start)
            let part = rows[start..<(start + count)]
            try ids.withUnsafeBufferPointer { ids throws(ExportError) in
                try byColumn.appendStringColumn(column: 0, count: count) { index in
                    ids[start + index].withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
                }
            }
            try byColumn.appendDoubleColumn(column: 1, count: count) { part[start + $0].score }
            try byColumn.appendTimestampColumn(column: 2, count: count) { part[start + $0].at }
            try byColumn.appendInt64Column(column: 3, count: count) { part[start + $0].n }
            try byColumn.appendBoolColumn(column: 4, count: count) { part[start + $0].flag }
            try byColumn.appendStringColumn(column: 5, count: count) { index in
                names[start + index].map { name in name.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) } }
            }
            try byColumn.endRows(count)
            start += count
        }
        try byColumn.close()
        #expect(byColumn.rowGroupsWritten == 4)
        let a = try Data(contentsOf: URL(fileURLWithPath: directory.path("rows.parquet")))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory.path("columns.parquet")))
        #expect(a == b)
    }

    @Test func columnAtATimeChecksShape() throws {
        let directory = try TemporaryDirectory()
        let writer = try ParquetWriter(path: directory.path("t.parquet"), schema: Self.schema, options: Self.options())
        do {
            try writer.appendDoubleColumn(column: 1, count: 2_000) { _ in 1 }
            Issue.record("more rows than the row group holds")
        } catch {
            #expect(error.code == .rowShape)
        }
        do {
            try writer.appendTimestampColumn(column: 2, count: 2) { _ in nil }
            Issue.record("NULL in a required column")
        } catch {
            #expect(error.code == .nullInRequiredColumn)
        }
        do {
            try writer.appendDoubleColumn(column: 1, count: 2) { _ in 1 }
            try writer.endRows(2)
            Issue.record("the other columns have no values")
        } catch {
            #expect(error.code == .rowShape)
            #expect(error.column == "id")
        }
        writer.discard()
    }
}
