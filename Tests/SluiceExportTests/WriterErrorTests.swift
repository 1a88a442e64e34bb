import Foundation
import SluiceExport
import Testing

/// Misuse and IO failures produce `ExportError`s that name the column, row or file.
@Suite struct WriterErrorTests {
    static func schema() throws(ExportError) -> ParquetSchema {
        try ParquetSchema([.required("score", .double), .optional("entity", .string), .required("at", .timestamp(.millis))])
    }

    static func writers(in directory: borrowing TemporaryDirectory) throws -> [any SnapshotTableWriter] {
        [
            try ParquetWriter(path: directory.path("t.parquet"), schema: try schema()),
            try CSVWriter(path: directory.path("t.csv"), schema: try schema()),
        ]
    }

    func expectError(_ code: ExportError.Code, column: String? = nil, row: Int64? = nil, _ body: () throws(ExportError) -> Void)
    {
        do {
            try body()
            Issue.record("expected ExportError \(code)")
        } catch {
            #expect(error.code == code, "\(error)")
            if let column { #expect(error.column == column, "\(error)") }
            if let row { #expect(error.row == row, "\(error)") }
            #expect(!error.message.isEmpty)
        }
    }

    @Test func schemaRejectsDuplicateAndEmptyNames() {
        expectError(.invalidSchema, column: "a") { () throws(ExportError) in
            _ = try ParquetSchema([.required("a", .double), .optional("a", .int64)])
        }
        expectError(.invalidSchema) { () throws(ExportError) in _ = try ParquetSchema([.required("", .double)]) }
        expectError(.invalidSchema) { () throws(ExportError) in _ = try ParquetSchema([]) }
    }

    @Test func wrongTypeNamesColumnAndRow() throws {
        let directory = try TemporaryDirectory()
        for writer in try Self.writers(in: directory) {
            try writer.append(row: [.double(1), .string("e1"), .timestamp(5)])
            expectError(.wrongType, column: "score", row: 1) { () throws(ExportError) in
                try writer.appendInt64(column: 0, 3)
            }
            // The failed call left the row untouched: it can still be completed.
            try writer.appendDouble(column: 0, 2)
            expectError(.wrongType, column: "entity", row: 1) { () throws(ExportError) in
                try writer.appendDouble(column: 1, 2)
            }
            try writer.appendString(column: 1, "e2")
            expectError(.wrongType, column: "at") { () throws(ExportError) in try writer.appendInt64(column: 2, 1) }
            try writer.appendTimestamp(column: 2, 6)
            try writer.endRow()
            expectError(.wrongType, column: "at", row: 2) { () throws(ExportError) in
                try writer.append(row: [.double(1), .null, .string("not a time")])
            }
            expectError(.nullInRequiredColumn, column: "score", row: 2) { () throws(ExportError) in
                try writer.append(row: [.null, .null, .timestamp(1)])
            }
            // Rejected rows left nothing behind: the next row is accepted whole.
            try writer.append(row: [.double(3), .null, .timestamp(7)])
            #expect(writer.rowsWritten == 3)
            try writer.close()
        }
    }

    @Test func nullInRequiredColumnAndRowShapeErrors() throws {
        let directory = try TemporaryDirectory()
        for writer in try Self.writers(in: directory) {
            expectError(.nullInRequiredColumn, column: "score", row: 0) { () throws(ExportError) in
                try writer.appendNull(column: 0)
            }
            try writer.appendDouble(column: 0, 1)
            expectError(.rowShape, column: "entity", row: 0) { () throws(ExportError) in try writer.endRow() }
            expectError(.rowShape) { () throws(ExportError) in try writer.appendDouble(column: 0, 1) }
            expectError(.unknownColumn) { () throws(ExportError) in try writer.appendDouble(column: 7, 1) }
            expectError(.rowShape) { () throws(ExportError) in try writer.append(row: [.double(1)]) }
            expectError(.rowShape, column: "entity") { () throws(ExportError) in try writer.close() }
            try writer.appendNull(column: 1)
            try writer.appendTimestamp(column: 2, 0)
            try writer.endRow()
            try writer.close()
            #expect(writer.rowsWritten == 1)
        }
    }

    @Test func csvRequiresColumnOrder() throws {
        let directory = try TemporaryDirectory()
        let writer = try CSVWriter(path: directory.path("order.csv"), schema: try Self.schema())
        expectError(.rowShape, column: "entity") { () throws(ExportError) in try writer.appendString(column: 1, "x") }
        writer.discard()
    }

    @Test func writingAfterCloseFails() throws {
        let directory = try TemporaryDirectory()
        for writer in try Self.writers(in: directory) {
            try writer.append(row: [.double(1), .string("e"), .timestamp(1)])
            try writer.close()
            expectError(.closed) { () throws(ExportError) in try writer.appendDouble(column: 0, 1) }
            expectError(.closed) { () throws(ExportError) in try writer.endRow() }
            expectError(.closed) { () throws(ExportError) in try writer.close() }
        }
    }

    @Test func missingDirectoryIsAnIOErrorNamingThePath() {
        let path = "/nonexistent-sluice-dir-\(UUID().uuidString)/x.parquet"
        expectError(.io) { () throws(ExportError) in _ = try ParquetWriter(path: path, schema: try Self.schema()) }
        do throws(ExportError) {
            _ = try CSVWriter(path: path, schema: try Self.schema())
            Issue.record("expected an IO error")
        } catch {
            #expect(error.code == .io)
            #expect(error.path == path + ".tmp")
        }
    }

    @Test func finalNameAppearsOnlyOnCloseAndDiscardLeavesNothing() throws {
        let directory = try TemporaryDirectory()
        let manager = FileManager.default
        for (index, writer) in try Self.writers(in: directory).enumerated() {
            let path = index == 0 ? directory.path("t.parquet") : directory.path("t.csv")
            for row in 0..<5_000 {
                try writer.append(row: [.double(Double(row)), .string("entity-\(row)"), .timestamp(Int64(row))])
            }
            #expect(manager.fileExists(atPath: path + ".tmp"))
            #expect(!manager.fileExists(atPath: path), "no file under the final name before close()")
            try writer.close()
            #expect(manager.fileExists(atPath: path))
            #expect(!manager.fileExists(atPath: path + ".tmp"))
        }
        let abandoned = try ParquetWriter(path: directory.path("gone.parquet"), schema: try Self.schema())
        try abandoned.append(row: [.double(1), .null, .timestamp(1)])
        abandoned.discard()
        #expect(!manager.fileExists(atPath: directory.path("gone.parquet")))
        #expect(!manager.fileExists(atPath: directory.path("gone.parquet.tmp")))
        expectError(.closed) { () throws(ExportError) in try abandoned.endRow() }
    }

    @Test func rowGroupByteBudgetSplitsRowGroups() throws {
        let directory = try TemporaryDirectory()
        var options = ParquetWriterOptions()
        options.rowGroupBytes = 64 << 10
        let writer = try ParquetWriter(path: directory.path("budget.parquet"), schema: try Self.schema(), options: options)
        for row in 0..<20_000 {
            try writer.append(row: [.double(Double(row)), .string("entity-\(row)"), .timestamp(Int64(row))])
            #expect(writer.bufferedBytes < options.rowGroupBytes + 1_024 * 64, "memory stays near the budget")
        }
        try writer.close()
        #expect(writer.rowGroupsWritten > 3, "the byte budget, not the 65,536-row limit, must cut row groups")
    }
}
