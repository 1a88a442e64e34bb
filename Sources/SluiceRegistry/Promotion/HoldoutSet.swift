import Foundation
import SluiceInference

/// The rows of a snapshot CSV the promotion gate evaluates on, with their labels, scored by any model by name.
///
/// Snapshot CSV format (the exporter's contract): a header, then `prediction_id, event_id, entity_id, event_time,
/// model_name, model_version, score, label, label_time`, then `split` (`train` or `holdout`) when the export split
/// the rows, then one column per feature sorted by name (numbers, or strings for string features; empty = missing).
/// The gate reads only `label`, `split` and the model's feature columns, by name.
///
/// The rows are those with `split = holdout`; a snapshot without a `split` column has no holdout, so every row is
/// used (``usesSplit`` is false, and the gate says so).
package struct HoldoutSet: Sendable {
    /// The columns before the features; every other column is a feature column.
    package static let fixedColumns = ["prediction_id", "event_id", "entity_id", "event_time", "model_name", "model_version",
                                       "score", "label", "label_time", "split"]

    /// The whole file.
    package let table: CSVTable
    /// Whether the file has a `split` column (else every row is evaluated).
    package let usesSplit: Bool
    /// The evaluated rows, as indices into `table.rows`.
    package let rowIndices: [Int]
    /// Their labels.
    package let labels: [Double]

    /// Selects the holdout rows of `table` and reads their labels.
    /// - Throws: ``GateError`` `invalidSnapshot` when there is no `label` column, a `split` cell is neither `train`
    ///   nor `holdout`, a label is missing or not a number, or no row is left to evaluate.
    package init(table: CSVTable) throws {
        guard let labelColumn = table.column("label") else {
            throw GateError(.invalidSnapshot, "\(table.name) has no \"label\" column; expected a snapshot CSV (columns \(Self.fixedColumns.joined(separator: ", ")), then the features)")
        }
        var indices: [Int] = []
        if let splitColumn = table.column("split") {
            for (index, row) in table.rows.enumerated() {
                switch row[splitColumn].trimmingCharacters(in: .whitespaces) {
                case "holdout": indices.append(index)
                case "train": continue
                case let other:
                    throw GateError(.invalidSnapshot, "\(table.name) line \(table.lines[index]), column \"split\": \"\(other)\"; expected train or holdout")
                }
            }
            guard !indices.isEmpty else {
                throw GateError(.invalidSnapshot, "\(table.name) has no holdout rows (split = holdout) among its \(table.rows.count) row(s); expected an export with a holdout fraction above 0 (snapshots.holdout_fraction)")
            }
            usesSplit = true
        } else {
            indices = Array(table.rows.indices)
            guard !indices.isEmpty else {
                throw GateError(.invalidSnapshot, "\(table.name) has no rows; expected labelled rows to evaluate on")
            }
            usesSplit = false
        }
        var labels: [Double] = []
        labels.reserveCapacity(indices.count)
        for index in indices {
            let cell = table.rows[index][labelColumn].trimmingCharacters(in: .whitespaces)
            guard let label = Double(cell), label.isFinite else {
                throw GateError(.invalidSnapshot, "\(table.name) line \(table.lines[index]), column \"label\": \"\(cell)\" is not a number; expected every row to carry its label (0 or 1 for a binary model)")
            }
            labels.append(label)
        }
        self.table = table
        self.rowIndices = indices
        self.labels = labels
    }

    /// Reads a snapshot CSV file.
    /// - Throws: ``GateError`` `invalidSnapshot` when the file cannot be read or parsed, or as ``init(table:)``.
    package init(contentsOf path: String) throws {
        let table: CSVTable
        do {
            table = try CSVTable.read(path: path)
        } catch let error as ReferenceError {
            throw GateError(.invalidSnapshot, "snapshot CSV: \(error.message)")
        }
        try self.init(table: table)
    }

    /// The feature columns of the file (every column but the fixed ones), in file order.
    package var featureColumns: [String] {
        table.header.filter { !Self.fixedColumns.contains($0) }
    }

    /// The CSV line of evaluated row `index`.
    package func line(ofRow index: Int) -> Int { table.lines[rowIndices[index]] }

    /// Each evaluated row scored by `model`: its one output (the probability of class 1 for a binary classifier).
    ///
    /// The model's features are read by name from the feature columns; an empty cell or `NaN` is a missing value
    /// (NaN, which tree models route down their default branch).
    /// - Parameter label: How the model is named in messages (e.g. `fraud version 3`).
    /// - Throws: ``GateError`` `cannotEvaluate` when the model has several outputs, a model feature has no column,
    ///   a cell of one is not a number, or the model refuses a row.
    package func scores(of model: LoadedModel, label: String) throws -> [Double] {
        guard model.outputCount == 1 else {
            throw GateError(.cannotEvaluate, "\(label) predicts \(model.outputCount) values per row; the promotion gate evaluates models with one output (a binary classifier's probability or a regression)")
        }
        let features = model.featureNames
        let columns = features.map { table.column($0) }
        let missing = zip(features, columns).filter { $0.1 == nil }.map(\.0)
        if !missing.isEmpty {
            throw GateError(.cannotEvaluate, "\(label) uses \(missing.count) feature(s) the snapshot \(table.name) has no column for: \(missing.joined(separator: ", ")); its feature columns are: \(featureColumns.joined(separator: ", "))")
        }
        let width = features.count
        var rows = [Double](repeating: .nan, count: rowIndices.count * width)
        for (r, index) in rowIndices.enumerated() {
            let record = table.rows[index]
            for (j, column) in columns.enumerated() {
                guard let column else { continue }
                let cell = record[column].trimmingCharacters(in: .whitespaces)
                if cell.isEmpty || cell.lowercased() == "nan" { continue }
                guard let value = Double(cell) else {
                    throw GateError(.cannotEvaluate, "\(table.name) line \(table.lines[index]), column \"\(features[j])\": \"\(cell)\" is not a number; \(label) needs numbers (an empty cell or NaN is a missing value)")
                }
                rows[r * width + j] = value
            }
            do {
                try rows.withUnsafeBufferPointer { (all) throws(ModelError) in
                    try model.validate(row: UnsafeBufferPointer(rebasing: all[(r * width)..<(r * width + width)]))
                }
            } catch {
                throw GateError(.cannotEvaluate, "\(table.name) line \(table.lines[index]): \(label) cannot score the row: \(error.message)")
            }
        }
        return model.predictBatch(rows: rows, rowCount: rowIndices.count)
    }
}
