import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceFeatures
import SluicePostgres
import SluiceRegistry
import SluiceService

extension DriftCommand {
    /// `sluice drift status [--model NAME] [--json] [--config FILE]`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "Show, per model, the drift monitor's latest report and the alerts firing now.",
            discussion: """
                Reads the drift_reports and drift_alerts tables the workers write (schema migration 3). An alert \
                is firing when the latest state recorded for its alert_id is firing.
                """
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "Only this model.")
        var model: String?

        @Flag(help: "Print JSON: an array with one object per model.")
        var json = false

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                if let model { try ModelRegistry.validate(name: model) }
                let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: CommandLogging.logger("sluice.drift"))
                let statuses: [DriftStatus]
                do {
                    statuses = try await DriftStatusQuery.load(connection: connection, schema: config.postgres.schema, model: model)
                    await connection.close()
                } catch {
                    await connection.close()
                    throw error
                }
                if json {
                    print(try ModelsCommand.json(statuses))
                    return
                }
                if statuses.isEmpty {
                    print("no drift reports or alerts in schema \(config.postgres.schema) yet")
                    return
                }
                print(statuses.map(\.text).joined(separator: "\n\n"))
            }
        }
    }

    /// An RFC 3339 time without its fraction of a second, for tables.
    static func shortTime(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot]) + "Z"
    }
}

extension DriftStatus {
    /// The status as aligned text.
    var text: String {
        var lines = ["model \(model)"]
        if let report = latestReport {
            lines.append("  latest report #\(report.id) (version \(report.modelVersion)), evaluated \(DriftCommand.shortTime(report.evaluatedAt))")
            lines.append("  window     \(report.window.text)")
            lines.append("  reference  \(report.referenceSource), \(report.referenceEvents) events")
            lines.append("  drift      \(report.driftedFeatures) of \(report.totalFeatures) features drifted; dataset drift: \(report.datasetDrift ? "yes" : "no")")
            var rows = [["FEATURE", "TEST", "STATISTIC", "P-VALUE", "THRESHOLD", "DRIFTED", "EVENTS"]]
            for r in report.results {
                rows.append([r.feature, r.test ?? "-", DriftCommand.number(r.statistic), DriftCommand.pValue(r.pValue),
                             DriftCommand.number(r.threshold), r.drifted.map { $0 ? "yes" : "no" } ?? "-", r.events.map(String.init) ?? "-"])
            }
            lines.append(ModelsCommand.table(rows).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
        } else {
            lines.append("  no drift report yet")
        }
        if firingAlerts.isEmpty {
            lines.append("  no alert firing")
        } else {
            lines.append("  firing alerts: \(firingAlerts.count)")
            var rows = [["ALERT", "KIND", "SEVERITY", "VERSION", "FEATURE", "TEST", "STATISTIC", "P-VALUE", "THRESHOLD", "SINCE"]]
            for a in firingAlerts {
                rows.append([a.alertID, a.kind, a.severity, "\(a.modelVersion)", a.feature ?? "-", a.test, DriftCommand.number(a.statistic),
                             DriftCommand.pValue(a.pValue), DriftCommand.number(a.threshold), DriftCommand.shortTime(a.createdAt)])
            }
            lines.append(ModelsCommand.table(rows).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
        }
        return lines.joined(separator: "\n")
    }
}

extension DriftStatus.Window {
    var text: String {
        let span = start == nil && end == nil ? "" : "\(start.map(DriftCommand.shortTime) ?? "?") → \(end.map(DriftCommand.shortTime) ?? "?"), "
        return span + (events.map { "\($0) events" } ?? "events unknown")
    }
}
