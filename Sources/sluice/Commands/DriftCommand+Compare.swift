import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceMonitoring
import SluiceRegistry

extension DriftCommand {
    /// `sluice drift compare --reference A.csv --current B.csv [--json] [--config FILE]`.
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract: "Test every column of a current CSV file for drift against a reference CSV file.",
            discussion: """
                The reference file becomes a reference profile of all its columns (numerical when every non-empty \
                cell is a number, else categorical); every row of the current file then goes into one count window \
                of exactly that many events, which is evaluated once: the same code the live monitor runs. Each \
                column gets Evidently's default test for its kind and the reference size, unless --config is given, \
                whose drift.overrides (for columns the files have) and drift.dataset_share then apply. Only CSV is \
                supported.
                """
        )

        @Option(help: ArgumentHelp("Reference data (CSV).", valueName: "file.csv"))
        var reference: String

        @Option(help: ArgumentHelp("Current data (CSV) with the reference's columns.", valueName: "file.csv"))
        var current: String

        @Option(help: "Configuration file whose drift.overrides and drift.dataset_share apply (default: none, Evidently's defaults).")
        var config: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                var configuration = DriftConfiguration()
                if let config {
                    let loaded = try ModelsCommand.loadConfig(try ConfigOptions.parse(["--config", config]))
                    configuration = try loaded.drift.monitoringConfiguration()
                }
                let referenceTable = try CSVTable.read(path: reference)
                let currentTable = try CSVTable.read(path: current)
                guard !referenceTable.rows.isEmpty else {
                    throw ModelsCommandError("\(reference) has a header but no rows; expected at least one row of reference data")
                }
                guard !currentTable.rows.isEmpty else {
                    throw ModelsCommandError("\(current) has a header but no rows; expected at least one row of current data")
                }
                let profile = ReferenceProfile.build(source: URL(fileURLWithPath: reference).lastPathComponent,
                                                     columns: try ReferenceBuilder.inferredColumns(table: referenceTable))
                // The configuration is the pipeline's: overrides of features these files do not have do not apply.
                let columns = Set(referenceTable.header)
                configuration.overrides = configuration.overrides.filter { columns.contains($0.key) }
                let evaluation = try DriftComparison.evaluate(
                    reference: profile, current: try ReferenceBuilder.columns(table: currentTable, matching: profile),
                    configuration: configuration)
                let ignored = currentTable.header.filter { !columns.contains($0) }
                let report = ComparisonJSON(reference: referenceTable, current: currentTable, profile: profile, evaluation: evaluation,
                                            driftShare: configuration.driftShare, ignored: ignored)
                print(json ? try ModelsCommand.json(report) : report.text)
            }
        }
    }

    /// The result of `drift compare`, printed as JSON or as text.
    struct ComparisonJSON: Encodable {
        struct File: Encodable {
            var file: String
            var rows: Int
        }

        /// One column's result; the keys of a `drift_reports.results` element, plus `kind`.
        struct Feature: Encodable {
            var feature: String
            var kind: String
            var test: String
            var statistic: Double?
            var pValue: Double?
            var threshold: Double
            var drifted: Bool
            var events: Int
            /// Kept for the text form (JSON spells non-finite statistics as null).
            var rawStatistic: Double

            enum CodingKeys: String, CodingKey {
                case feature, kind, test, statistic, threshold, drifted, events
                case pValue = "p_value"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(feature, forKey: .feature)
                try container.encode(kind, forKey: .kind)
                try container.encode(test, forKey: .test)
                try container.encode(statistic, forKey: .statistic)  // null rather than absent
                try container.encode(pValue, forKey: .pValue)
                try container.encode(threshold, forKey: .threshold)
                try container.encode(drifted, forKey: .drifted)
                try container.encode(events, forKey: .events)
            }
        }

        var reference: File
        var current: File
        var features: [Feature]
        var driftedFeatures: Int
        var totalFeatures: Int
        var datasetDrift: Bool
        var driftShare: Double
        var ignoredColumns: [String]

        enum CodingKeys: String, CodingKey {
            case reference, current, features
            case driftedFeatures = "drifted_features", totalFeatures = "total_features", datasetDrift = "dataset_drift"
            case driftShare = "drift_share", ignoredColumns = "ignored_columns"
        }

        init(reference: CSVTable, current: CSVTable, profile: ReferenceProfile, evaluation: WindowEvaluation, driftShare: Double, ignored: [String]) {
            self.reference = File(file: reference.name, rows: reference.rows.count)
            self.current = File(file: current.name, rows: current.rows.count)
            features = zip(profile.features, evaluation.features).map { feature, result in
                Feature(feature: result.feature, kind: feature.kind.rawValue, test: result.result.test.rawValue,
                        statistic: DriftCommand.finite(result.result.statistic), pValue: result.result.pValue,
                        threshold: result.result.threshold, drifted: result.result.drifted, events: result.events,
                        rawStatistic: result.result.statistic)
            }
            driftedFeatures = evaluation.driftedFeatures
            totalFeatures = evaluation.features.count
            datasetDrift = evaluation.datasetDrifted
            self.driftShare = driftShare
            ignoredColumns = ignored
        }

        var text: String {
            var rows = [["COLUMN", "KIND", "TEST", "STATISTIC", "P-VALUE", "THRESHOLD", "DRIFTED", "EVENTS"]]
            for f in features {
                rows.append([f.feature, f.kind, f.test, DriftCommand.number(f.rawStatistic), DriftCommand.pValue(f.pValue),
                             DriftCommand.number(f.threshold), f.drifted ? "yes" : "no", "\(f.events)"])
            }
            var lines = [
                "reference  \(reference.file) (\(reference.rows) rows)",
                "current    \(current.file) (\(current.rows) rows)",
                "",
                ModelsCommand.table(rows),
                "",
            ]
            if !ignoredColumns.isEmpty {
                lines.append("not in the reference, not tested: \(ignoredColumns.joined(separator: ", "))")
            }
            let share = totalFeatures > 0 ? Double(driftedFeatures) / Double(totalFeatures) : 0
            lines.append("dataset drift: \(datasetDrift ? "yes" : "no") (\(driftedFeatures) of \(totalFeatures) columns drifted, share "
                         + String(format: "%.3g", share) + (datasetDrift ? " ≥ " : " < ") + DriftCommand.number(driftShare) + ")")
            return lines.joined(separator: "\n")
        }
    }
}
