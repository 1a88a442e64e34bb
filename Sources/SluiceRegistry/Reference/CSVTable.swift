import Foundation
import SluiceInference

/// A CSV file read whole, with the line each row starts on, for building reference profiles.
///
/// Format: RFC 4180 as ``CSVScoring`` reads it (comma separated, optional `"` quoting, LF or CRLF); the first
/// record is a header of distinct column names (spaces around a name are dropped), every other record has one
/// field per header name, and a trailing empty line is not a row. A UTF-8 byte order mark is skipped.
///
/// Cells: an empty cell (after trimming spaces) is missing in any column. In a numerical column `NaN` (any case)
/// is missing too, and every other cell must parse as a number (`1`, `-2.5`, `3e-4`).
package struct CSVTable: Sendable {
    /// The file as named in messages (the path the user gave).
    package var name: String
    /// Column names, in file order.
    package var header: [String]
    /// The data rows; each has `header.count` fields, untrimmed.
    package var rows: [[String]]
    /// The 1-based line each row starts on (the header is line 1; quoted line breaks count).
    package var lines: [Int]

    /// Parses CSV text.
    /// - Parameters:
    ///   - name: The file as named in messages.
    ///   - text: The file's contents.
    /// - Throws: ``ReferenceError`` naming the file and line for a malformed file, an empty or duplicate header
    ///   name, or a row with the wrong number of fields.
    package init(name: String, text: String) throws {
        var text = Substring(text)
        if text.first == "\u{FEFF}" { text = text.dropFirst() }
        var records: [[String]]
        do {
            records = try CSVScoring.parse(String(text))
        } catch {
            throw ReferenceError("\(name): \(error.message)", file: name)
        }
        guard !records.isEmpty, records[0] != [""] else {
            throw ReferenceError("\(name) is empty; expected a header line of column names, then one line per row", file: name, line: 1)
        }
        // Line of each record: one per record, plus the line breaks inside its quoted fields.
        var lines: [Int] = []
        lines.reserveCapacity(records.count)
        var line = 1
        for record in records {
            lines.append(line)
            line += 1
            for field in record { line += field.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } }
        }
        let header = records[0].map { $0.trimmingCharacters(in: .whitespaces) }
        var seen: [String: Int] = [:]
        for (index, column) in header.enumerated() {
            if column.isEmpty {
                throw ReferenceError("\(name) line 1: column \(index + 1) of the header has no name; expected a name for every column", file: name, line: 1)
            }
            if let first = seen[column] {
                throw ReferenceError("\(name) line 1: column \"\(column)\" appears twice in the header (columns \(first + 1) and \(index + 1)); expected distinct names", file: name, line: 1, column: column)
            }
            seen[column] = index
        }
        while records.count > 1, let last = records.last, last == [""] {
            records.removeLast()
            lines.removeLast()
        }
        for (record, line) in zip(records.dropFirst(), lines.dropFirst()) where record.count != header.count {
            throw ReferenceError("\(name) line \(line): the row has \(record.count) field(s); expected \(header.count), one per header column", file: name, line: line)
        }
        self.name = name
        self.header = header
        self.rows = Array(records.dropFirst())
        self.lines = Array(lines.dropFirst())
    }

    /// Reads a CSV file; a Parquet file is refused with a message saying CSV is what is supported.
    /// - Parameter path: The file, as the user named it (also used in messages).
    /// - Throws: ``ReferenceError`` when the file is Parquet, cannot be read, or is malformed (see ``init(name:text:)``).
    package static func read(path: String) throws -> CSVTable {
        let isParquetName = path.lowercased().hasSuffix(".parquet") || path.lowercased().hasSuffix(".parq")
        if isParquetName {
            throw parquetRefusal(path)
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReferenceError("cannot read \(path): \(error.localizedDescription)", file: path)
        }
        if data.starts(with: Array("PAR1".utf8)) {
            throw parquetRefusal(path)
        }
        return try CSVTable(name: path, text: String(decoding: data, as: UTF8.self))
    }

    private static func parquetRefusal(_ path: String) -> ReferenceError {
        ReferenceError("\(path) is a Parquet file; reference data in Parquet is not supported yet, only CSV (a header line of column names, then one line per row): export it as CSV, e.g. pandas.read_parquet(...).to_csv(..., index=False)", file: path)
    }

    /// The index of column `name`, or nil.
    package func column(_ name: String) -> Int? {
        header.firstIndex(of: name)
    }

    /// Whether every non-missing cell of column `index` parses as a number (a column of only missing cells counts
    /// as numerical).
    package func isNumerical(column index: Int) -> Bool {
        rows.allSatisfy { row in
            let cell = row[index].trimmingCharacters(in: .whitespaces)
            return cell.isEmpty || cell.lowercased() == "nan" || Double(cell) != nil
        }
    }

    /// Column `index` as numbers, NaN where missing.
    /// - Throws: ``ReferenceError`` naming the file, line and column of the first cell that is not a number.
    package func numbers(column index: Int) throws -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(rows.count)
        for (row, line) in zip(rows, lines) {
            let cell = row[index].trimmingCharacters(in: .whitespaces)
            if cell.isEmpty || cell.lowercased() == "nan" {
                values.append(.nan)
                continue
            }
            guard let value = Double(cell) else {
                throw ReferenceError("\(name) line \(line), column \"\(header[index])\": \"\(cell)\" is not a number; expected a number, or an empty cell or NaN for a missing value",
                                     file: name, line: line, column: header[index])
            }
            values.append(value)
        }
        return values
    }

    /// Column `index` as categories (trimmed text), nil where the cell is empty.
    package func strings(column index: Int) -> [String?] {
        rows.map { row in
            let cell = row[index].trimmingCharacters(in: .whitespaces)
            return cell.isEmpty ? nil : cell
        }
    }
}
