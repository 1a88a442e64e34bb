import Foundation

/// Scores the rows of a CSV file with a model, for `sluice models score`.
///
/// The first record is a header of column names. Every model feature must have a column (in any
/// order); other columns are ignored unless listed in `keepColumns`. A cell that is empty or
/// `NaN` (any case) is a missing value; anything else must parse as a number. Fields follow
/// RFC 4180: separated by commas, optionally quoted with `"` (a quote inside is doubled), and a
/// quoted field may hold commas and line breaks. Lines may end in LF or CRLF.
package struct CSVScoring: Sendable {
    /// The scored rows.
    package struct Result: Sendable, Equatable {
        /// Names of the prediction columns: `prediction` for one output, else `prediction_0`, `prediction_1`, ...
        package var outputNames: [String]
        /// Number of data rows scored.
        package var rowCount: Int
        /// Row-major predictions, `rowCount * outputNames.count` values.
        package var predictions: [Double]
        /// Row-major raw margins, `rowCount * marginCount` values.
        package var margins: [Double]
        /// Number of margins per row.
        package var marginCount: Int
        /// Names of the columns copied from the input (`keepColumns`).
        package var keptNames: [String]
        /// The kept input cells, `rowCount * keptNames.count` strings.
        package var keptValues: [String]

        /// The result as CSV: kept columns, then the prediction columns (and `margin...` columns if asked).
        package func csv(includeMargins: Bool = false) -> String {
            var header = keptNames + outputNames
            if includeMargins {
                header += marginCount == 1 ? ["margin"] : (0..<marginCount).map { "margin_\($0)" }
            }
            var text = header.map(CSVScoring.quote).joined(separator: ",") + "\n"
            let outputs = outputNames.count
            for r in 0..<rowCount {
                var fields = keptValues[(r * keptNames.count)..<((r + 1) * keptNames.count)].map(CSVScoring.quote)
                fields += predictions[(r * outputs)..<((r + 1) * outputs)].map { "\($0)" }
                if includeMargins {
                    fields += margins[(r * marginCount)..<((r + 1) * marginCount)].map { "\($0)" }
                }
                text += fields.joined(separator: ",") + "\n"
            }
            return text
        }
    }

    /// The model that scores the rows.
    package let model: LoadedModel
    /// Input columns copied to the result (for example an id column).
    package let keepColumns: [String]

    package init(model: LoadedModel, keepColumns: [String] = []) {
        self.model = model
        self.keepColumns = keepColumns
    }

    /// Scores a CSV file read from disk.
    /// - Throws: ``ModelError`` with code `invalidCSV` when the file cannot be read or parsed.
    package func score(contentsOf url: URL) throws(ModelError) -> Result {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError(.invalidCSV, "cannot read CSV file \(url.path): \(error.localizedDescription)")
        }
        return try score(csv: String(decoding: data, as: UTF8.self))
    }

    /// Scores CSV text.
    /// - Throws: ``ModelError`` with code `invalidCSV` naming the row and column of a bad cell or the
    ///   missing feature columns, or `invalidInput` when the model refuses a row.
    package func score(csv text: String) throws(ModelError) -> Result {
        var records = try Self.parse(text)
        guard !records.isEmpty else { throw ModelError(.invalidCSV, "CSV is empty, expected a header of feature names") }
        let header = records.removeFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        var columnOf: [String: Int] = [:]
        for (i, name) in header.enumerated() where columnOf[name] == nil { columnOf[name] = i }
        let features = model.featureNames
        let missing = features.filter { columnOf[$0] == nil }
        if !missing.isEmpty {
            throw ModelError(.invalidCSV, "CSV header lacks \(missing.count) model feature column(s): \(missing.joined(separator: ", "))")
        }
        let missingKept = keepColumns.filter { columnOf[$0] == nil }
        if !missingKept.isEmpty {
            throw ModelError(.invalidCSV, "CSV header lacks the column(s) to keep: \(missingKept.joined(separator: ", "))")
        }
        let featureColumns = features.compactMap { columnOf[$0] }
        let keptColumns = keepColumns.compactMap { columnOf[$0] }
        // A trailing empty line is not a row.
        while let last = records.last, last.count == 1, last[0].isEmpty { records.removeLast() }

        let f = features.count
        var rows = [Double](repeating: .nan, count: records.count * f)
        var kept: [String] = []
        kept.reserveCapacity(records.count * keptColumns.count)
        for (r, record) in records.enumerated() {
            let line = r + 2  // 1-based, after the header
            if record.count != header.count {
                throw ModelError(.invalidCSV, "CSV row \(line) has \(record.count) fields, expected \(header.count) (as in the header)")
            }
            for (j, column) in featureColumns.enumerated() {
                let cell = record[column].trimmingCharacters(in: .whitespaces)
                if cell.isEmpty || cell.lowercased() == "nan" { continue }
                guard let value = Double(cell) else {
                    throw ModelError(.invalidCSV, "CSV row \(line), column \"\(features[j])\": \"\(cell)\" is not a number (empty or NaN marks a missing value)")
                }
                rows[r * f + j] = value
            }
            for column in keptColumns { kept.append(record[column]) }
            do {
                try rows.withUnsafeBufferPointer { (all) throws(ModelError) in
                    try model.validate(row: UnsafeBufferPointer(rebasing: all[(r * f)..<(r * f + f)]))
                }
            } catch {
                throw ModelError(error.code, "CSV row \(line): \(error.message)")
            }
        }
        let predictions = model.predictBatch(rows: rows, rowCount: records.count)
        let margins = model.predictMarginBatch(rows: rows, rowCount: records.count)
        let outputNames = model.outputCount == 1 ? ["prediction"] : (0..<model.outputCount).map { "prediction_\($0)" }
        return Result(outputNames: outputNames, rowCount: records.count, predictions: predictions, margins: margins,
                      marginCount: model.marginCount, keptNames: keepColumns, keptValues: kept)
    }

    /// Splits CSV text into records of fields (RFC 4180).
    /// - Throws: ``ModelError`` when a quoted field is not closed or a quote appears inside an unquoted field.
    package static func parse(_ text: String) throws(ModelError) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var quotedField = false
        var line = 1
        let bytes = Array(text.utf8)
        var i = 0
        func finishField() {
            record.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            quotedField = false
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == UInt8(ascii: "\n") { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: ","):
                    finishField()
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    finishField()
                    records.append(record)
                    record.removeAll(keepingCapacity: true)
                    if c == UInt8(ascii: "\r") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") { i += 1 }
                    line += 1
                case UInt8(ascii: "\""):
                    guard field.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) && !quotedField else {
                        throw ModelError(.invalidCSV, "CSV line \(line): a quote appears inside an unquoted field")
                    }
                    field.removeAll(keepingCapacity: true)
                    inQuotes = true
                    quotedField = true
                default:
                    field.append(c)
                }
            }
            i += 1
        }
        if inQuotes {
            throw ModelError(.invalidCSV, "CSV line \(line): a quoted field is not closed before the end of the file")
        }
        if !field.isEmpty || !record.isEmpty || quotedField {
            finishField()
            records.append(record)
        }
        return records
    }

    /// Quotes a field for CSV output when it holds a comma, quote or line break.
    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
