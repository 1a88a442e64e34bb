import ArgumentParser
import Foundation
import SluiceInference

extension ModelsCommand {
    /// `sluice models score --model FILE --input CSV [--output CSV] [--explain]`: offline scoring, no database.
    struct Score: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "score",
            abstract: "Score the rows of a CSV file with a model file (offline; no configuration or database).",
            discussion: """
                The CSV's header names the columns; every model feature needs a column (any order, extra columns \
                ignored). An empty cell or NaN is a missing value. The output has the --keep columns, then \
                `prediction` (or `prediction_0`, `prediction_1`, … per class), then with --margins the raw scores and \
                with --explain one `contribution_<feature>` column per feature plus `contribution_bias` (TreeSHAP for \
                tree models, w·x for linear ones; per class `contribution_<k>_<feature>`), which sum to the margin.
                """
        )

        @Option(help: "Model file.")
        var model: String

        @Option(help: "Model file format (default: detected from the file).")
        var format: ModelFormat?

        @Option(help: "CSV file to score, with a header row of column names.")
        var input: String

        @Option(help: "Write the scored CSV here (default: standard output).")
        var output: String?

        @Option(help: "Comma-separated input columns to copy into the output (e.g. an id column).")
        var keep: String?

        @Flag(help: "Add the raw scores before the link function.")
        var margins = false

        @Flag(help: "Add each feature's contribution to the margin.")
        var explain = false

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let loaded = try ModelLoader.load(contentsOf: URL(fileURLWithPath: model), format: format)
                let text: String
                do {
                    text = try String(contentsOf: URL(fileURLWithPath: input), encoding: .utf8)
                } catch {
                    throw ModelsCommandError("cannot read CSV file \(input): \(error.localizedDescription)")
                }
                let keepColumns = keep.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
                let result = try CSVScoring(model: loaded, keepColumns: keepColumns).score(csv: text)
                let contributions = explain ? try Self.contributions(loaded, csv: text, rowCount: result.rowCount) : nil
                let csv = Self.render(result, model: loaded, margins: margins, contributions: contributions)
                if let output {
                    do {
                        try csv.write(toFile: output, atomically: true, encoding: .utf8)
                    } catch {
                        throw ModelsCommandError("cannot write \(output): \(error.localizedDescription)")
                    }
                    FileHandle.standardError.write(Data("scored \(result.rowCount) rows with \(model) (\(loaded.format.rawValue), \(loaded.featureNames.count) features) into \(output)\n".utf8))
                } else {
                    FileHandle.standardOutput.write(Data(csv.utf8))
                }
            }
        }

        /// Per row, the model's `explain` output (margin outputs × (features + bias)), row-major.
        /// `CSVScoring` has already checked every cell, so this only re-reads the feature columns.
        static func contributions(_ model: LoadedModel, csv text: String, rowCount: Int) throws -> [Double] {
            var records = try CSVScoring.parse(text)
            let header = records.removeFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            var columnOf: [String: Int] = [:]
            for (index, name) in header.enumerated() where columnOf[name] == nil { columnOf[name] = index }
            let columns = model.featureNames.compactMap { columnOf[$0] }
            let width = model.marginCount * (model.featureNames.count + 1)
            var all: [Double] = []
            all.reserveCapacity(rowCount * width)
            var row = [Double](repeating: .nan, count: model.featureNames.count)
            for record in records.prefix(rowCount) {
                for (j, column) in columns.enumerated() {
                    row[j] = Double(record[column].trimmingCharacters(in: .whitespaces)) ?? .nan
                }
                for explanation in model.explain(row: row) {
                    all += explanation.contributions
                    all.append(explanation.bias)
                }
            }
            return all
        }

        static func render(_ result: CSVScoring.Result, model: LoadedModel, margins: Bool, contributions: [Double]?) -> String {
            var header = result.keptNames + result.outputNames
            if margins {
                header += result.marginCount == 1 ? ["margin"] : (0..<result.marginCount).map { "margin_\($0)" }
            }
            let names = model.featureNames + ["bias"]
            if contributions != nil {
                for k in 0..<result.marginCount {
                    header += names.map { result.marginCount == 1 ? "contribution_\($0)" : "contribution_\(k)_\($0)" }
                }
            }
            var text = header.map(quote).joined(separator: ",") + "\n"
            let outputs = result.outputNames.count
            let kept = result.keptNames.count
            let width = result.marginCount * names.count
            for r in 0..<result.rowCount {
                var fields = result.keptValues[(r * kept)..<((r + 1) * kept)].map(quote)
                fields += result.predictions[(r * outputs)..<((r + 1) * outputs)].map { "\($0)" }
                if margins {
                    fields += result.margins[(r * result.marginCount)..<((r + 1) * result.marginCount)].map { "\($0)" }
                }
                if let contributions {
                    fields += contributions[(r * width)..<((r + 1) * width)].map { "\($0)" }
                }
                text += fields.joined(separator: ",") + "\n"
            }
            return text
        }

        /// RFC 4180 quoting when a field holds a comma, quote or line break.
        static func quote(_ field: String) -> String {
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }
}
