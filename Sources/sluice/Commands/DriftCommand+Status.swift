import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceFeatures
import SluicePostgres
import SluiceRegistry

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
                let statuses = try await DriftStatusQuery.load(config: config, model: model)
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

    /// One model's drift status: its latest report and its firing alerts.
    struct ModelStatus: Encodable {
        var model: String
        var latestReport: Report?
        var firingAlerts: [Alert]

        enum CodingKeys: String, CodingKey {
            case model, latestReport = "latest_report", firingAlerts = "firing_alerts"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(model, forKey: .model)
            try container.encode(latestReport, forKey: .latestReport)  // null rather than absent
            try container.encode(firingAlerts, forKey: .firingAlerts)
        }

        /// `{start, end, events}` of a window; times in RFC 3339, null when the worker recorded none.
        struct Window: Encodable {
            var start: String?
            var end: String?
            var events: Int64?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(start, forKey: .start)
                try container.encode(end, forKey: .end)
                try container.encode(events, forKey: .events)
            }

            enum CodingKeys: String, CodingKey { case start, end, events }

            var text: String {
                let span = start == nil && end == nil ? "" : "\(start.map(DriftCommand.shortTime) ?? "?") → \(end.map(DriftCommand.shortTime) ?? "?"), "
                return span + (events.map { "\($0) events" } ?? "events unknown")
            }
        }

        /// One feature's line of a report: an element of `drift_reports.results`.
        struct Result: Codable {
            var feature: String
            var test: String?
            var statistic: Double?
            var pValue: Double?
            var threshold: Double?
            var drifted: Bool?
            var events: Int64?

            enum CodingKeys: String, CodingKey {
                case feature, test, statistic, threshold, drifted, events
                case pValue = "p_value"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(feature, forKey: .feature)
                try container.encode(test, forKey: .test)
                try container.encode(statistic, forKey: .statistic)
                try container.encode(pValue, forKey: .pValue)
                try container.encode(threshold, forKey: .threshold)
                try container.encode(drifted, forKey: .drifted)
                try container.encode(events, forKey: .events)
            }
        }

        /// A row of `drift_reports`.
        struct Report: Encodable {
            var id: Int64
            var modelVersion: Int
            var evaluatedAt: String
            var window: Window
            var referenceSource: String
            var referenceEvents: Int64
            var driftedFeatures: Int
            var totalFeatures: Int
            var datasetDrift: Bool
            var results: [Result]

            enum CodingKeys: String, CodingKey {
                case id, window, results
                case modelVersion = "model_version", evaluatedAt = "evaluated_at", reference
                case driftedFeatures = "drifted_features", totalFeatures = "total_features", datasetDrift = "dataset_drift"
            }

            enum ReferenceKeys: String, CodingKey { case source, events }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(id, forKey: .id)
                try container.encode(modelVersion, forKey: .modelVersion)
                try container.encode(evaluatedAt, forKey: .evaluatedAt)
                try container.encode(window, forKey: .window)
                var reference = container.nestedContainer(keyedBy: ReferenceKeys.self, forKey: .reference)
                try reference.encode(referenceSource, forKey: .source)
                try reference.encode(referenceEvents, forKey: .events)
                try container.encode(driftedFeatures, forKey: .driftedFeatures)
                try container.encode(totalFeatures, forKey: .totalFeatures)
                try container.encode(datasetDrift, forKey: .datasetDrift)
                try container.encode(results, forKey: .results)
            }
        }

        /// A firing alert: the latest row of its `alert_id` in `drift_alerts`.
        struct Alert: Encodable {
            var alertID: String
            var kind: String
            var severity: String
            var modelVersion: Int
            var feature: String?
            var test: String
            var statistic: Double?
            var threshold: Double?
            var pValue: Double?
            var window: Window
            var snapshotID: String?
            var createdAt: String
            /// The message as published on the drift-alerts topic.
            var message: JSONValue

            enum CodingKeys: String, CodingKey {
                case kind, severity, feature, test, statistic, threshold, window, message
                case alertID = "alert_id", modelVersion = "model_version", pValue = "p_value", snapshotID = "snapshot_id", createdAt = "created_at"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(alertID, forKey: .alertID)
                try container.encode(kind, forKey: .kind)
                try container.encode(severity, forKey: .severity)
                try container.encode(modelVersion, forKey: .modelVersion)
                try container.encode(feature, forKey: .feature)
                try container.encode(test, forKey: .test)
                try container.encode(statistic, forKey: .statistic)
                try container.encode(threshold, forKey: .threshold)
                try container.encode(pValue, forKey: .pValue)
                try container.encode(window, forKey: .window)
                try container.encode(snapshotID, forKey: .snapshotID)
                try container.encode(createdAt, forKey: .createdAt)
                try container.encode(message, forKey: .message)
            }
        }

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

    /// An RFC 3339 time without its fraction of a second, for tables.
    static func shortTime(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot]) + "Z"
    }
}

/// The queries behind `sluice drift status`.
enum DriftStatusQuery {
    /// Every model with a drift report or alert (or only `model`), each with its latest report and firing alerts.
    /// - Throws: ``ModelsCommandError`` saying to run `sluice migrate` when the schema lacks the drift tables;
    ///   `PostgresError`; an error naming the report whose results are not the expected JSON.
    static func load(config: SluiceConfig, model: String?) async throws -> [DriftCommand.ModelStatus] {
        let logger = CommandLogging.logger("sluice.drift")
        let schema = config.postgres.schema
        let s = try quoted(schema)
        let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
        do {
            let statuses = try await query(connection, s: s, model: model)
            await connection.close()
            return statuses
        } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
            await connection.close()
            throw ModelsCommandError("schema \(schema) has no drift tables (drift_reports, drift_alerts) yet: run `sluice migrate` to apply the feature store's migrations")
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func quoted(_ schema: String) throws -> String {
        "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func query(_ connection: PostgresConnection, s: String, model: String?) async throws -> [DriftCommand.ModelStatus] {
        let filter = model == nil ? "" : "WHERE model_name = $1"
        let binds: PostgresBindings = model.map { [$0] } ?? []
        let reportRows = try await connection.query("""
            SELECT DISTINCT ON (model_name) id, model_name, model_version, evaluated_at, window_start, window_end, window_events,
                   reference_source, reference_events, drifted_features, total_features, dataset_drift, results::text
            FROM \(s).drift_reports \(filter) ORDER BY model_name, id DESC
            """, binds)
        let alertRows = try await connection.query("""
            SELECT alert_id, kind, severity, model_name, model_version, feature, test, statistic, threshold, p_value,
                   window_start, window_end, window_events, snapshot_id, created_at, message::text
            FROM (SELECT DISTINCT ON (alert_id) * FROM \(s).drift_alerts \(filter) ORDER BY alert_id, created_at DESC) latest
            WHERE state = 'firing' ORDER BY model_name, created_at DESC, alert_id
            """, binds)
        var reports: [String: DriftCommand.ModelStatus.Report] = [:]
        for row in reportRows {
            let id = try row.decode(Int64.self, column: 0)
            let resultsText = try row.decode(String.self, column: 12)
            let results: [DriftCommand.ModelStatus.Result]
            do {
                results = try JSONDecoder().decode([DriftCommand.ModelStatus.Result].self, from: Data(resultsText.utf8))
            } catch {
                throw ModelsCommandError("drift report #\(id) has results that are not an array of {feature, test, statistic, p_value, threshold, drifted, events}: \(error)")
            }
            reports[try row.decode(String.self, column: 1)] = DriftCommand.ModelStatus.Report(
                id: id, modelVersion: try row.decode(Int.self, column: 2),
                evaluatedAt: try time(row, 3) ?? "",
                window: .init(start: try time(row, 4), end: try time(row, 5), events: try row.decode(Int64.self, column: 6)),
                referenceSource: try row.decode(String.self, column: 7), referenceEvents: try row.decode(Int64.self, column: 8),
                driftedFeatures: try row.decode(Int.self, column: 9), totalFeatures: try row.decode(Int.self, column: 10),
                datasetDrift: try row.decode(Bool.self, column: 11), results: results)
        }
        var alerts: [String: [DriftCommand.ModelStatus.Alert]] = [:]
        for row in alertRows {
            let id = try row.decode(String.self, column: 0)
            let messageText = try row.decode(String.self, column: 15)
            let message: JSONValue
            do {
                message = try JSONDecoder().decode(JSONValue.self, from: Data(messageText.utf8))
            } catch {
                throw ModelsCommandError("drift alert \(id) has a message that is not JSON: \(error)")
            }
            alerts[try row.decode(String.self, column: 3), default: []].append(DriftCommand.ModelStatus.Alert(
                alertID: id, kind: try row.decode(String.self, column: 1), severity: try row.decode(String.self, column: 2),
                modelVersion: try row.decode(Int.self, column: 4), feature: try row.decode(String?.self, column: 5),
                test: try row.decode(String.self, column: 6), statistic: try row.decode(Double?.self, column: 7),
                threshold: try row.decode(Double?.self, column: 8), pValue: try row.decode(Double?.self, column: 9),
                window: .init(start: try time(row, 10), end: try time(row, 11), events: try row.decode(Int64?.self, column: 12)),
                snapshotID: try row.decode(String?.self, column: 13), createdAt: try time(row, 14) ?? "", message: message))
        }
        // Every model the monitor wrote anything for, also those whose alerts are all resolved.
        let nameRows = try await connection.query("""
            SELECT model_name FROM \(s).drift_reports \(filter) UNION SELECT model_name FROM \(s).drift_alerts \(filter)
            """, binds)
        var names = Set(try nameRows.map { try $0.decode(String.self, column: 0) })
        if let model { names.insert(model) }
        return names.sorted().map { name in
            DriftCommand.ModelStatus(model: name, latestReport: reports[name], firingAlerts: alerts[name] ?? [])
        }
    }

    private static func time(_ row: PostgresRow, _ column: Int) throws -> String? {
        try row.decode(PostgresTimestamp?.self, column: column).map { timestamp in
            if timestamp == .infinity { return "infinity" }
            if timestamp == .negativeInfinity { return "-infinity" }
            let (quotient, remainder) = timestamp.microsecondsSinceUnixEpoch.quotientAndRemainder(dividingBy: 1_000)
            return formatRFC3339(millis: remainder < 0 ? quotient - 1 : quotient)
        }
    }
}
