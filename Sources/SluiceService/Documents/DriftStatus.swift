import Foundation
import SluiceFeatures
import SluicePostgres

/// One model's drift status — its latest report and the alerts firing now — as `sluice drift status --json` and
/// `GET /v1/drift` print it.
package struct DriftStatus: Encodable, Sendable {
    package var model: String
    package var latestReport: Report?
    package var firingAlerts: [Alert]

    enum CodingKeys: String, CodingKey {
        case model, latestReport = "latest_report", firingAlerts = "firing_alerts"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(latestReport, forKey: .latestReport)  // null rather than absent
        try container.encode(firingAlerts, forKey: .firingAlerts)
    }

    /// `{start, end, events}` of a window; times in RFC 3339, null when the worker recorded none.
    package struct Window: Encodable, Sendable {
        package var start: String?
        package var end: String?
        package var events: Int64?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(events, forKey: .events)
        }

        enum CodingKeys: String, CodingKey { case start, end, events }
    }

    /// One feature's line of a report: an element of `drift_reports.results`.
    package struct Result: Codable, Sendable {
        package var feature: String
        package var test: String?
        package var statistic: Double?
        package var pValue: Double?
        package var threshold: Double?
        package var drifted: Bool?
        package var events: Int64?

        enum CodingKeys: String, CodingKey {
            case feature, test, statistic, threshold, drifted, events
            case pValue = "p_value"
        }

        package func encode(to encoder: any Encoder) throws {
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
    package struct Report: Encodable, Sendable {
        package var id: Int64
        package var modelVersion: Int
        package var evaluatedAt: String
        package var window: Window
        package var referenceSource: String
        package var referenceEvents: Int64
        package var driftedFeatures: Int
        package var totalFeatures: Int
        package var datasetDrift: Bool
        package var results: [Result]

        enum CodingKeys: String, CodingKey {
            case id, window, results
            case modelVersion = "model_version", evaluatedAt = "evaluated_at", reference
            case driftedFeatures = "drifted_features", totalFeatures = "total_features", datasetDrift = "dataset_drift"
        }

        enum ReferenceKeys: String, CodingKey { case source, events }

        package func encode(to encoder: any Encoder) throws {
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
    package struct Alert: Encodable, Sendable {
        package var alertID: String
        package var kind: String
        package var severity: String
        package var modelVersion: Int
        package var feature: String?
        package var test: String
        package var statistic: Double?
        package var threshold: Double?
        package var pValue: Double?
        package var window: Window
        package var snapshotID: String?
        package var createdAt: String
        /// The message as published on the drift-alerts topic.
        package var message: JSONValue

        enum CodingKeys: String, CodingKey {
            case kind, severity, feature, test, statistic, threshold, window, message
            case alertID = "alert_id", modelVersion = "model_version", pValue = "p_value", snapshotID = "snapshot_id", createdAt = "created_at"
        }

        package func encode(to encoder: any Encoder) throws {
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
}

/// The queries behind `sluice drift status`.
package enum DriftStatusQuery {
    /// Every model with a drift report or alert (or only `model`), each with its latest report and firing alerts.
    /// - Throws: ``ServiceError`` saying to run `sluice migrate` when the schema lacks the drift tables;
    ///   `PostgresError`; an error naming the report whose results are not the expected JSON.
    package static func load(connection: PostgresConnection, schema: String, model: String?) async throws -> [DriftStatus] {
        do {
            return try await query(connection, s: quoted(schema), model: model)
        } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
            throw ServiceError("schema \(schema) has no drift tables (drift_reports, drift_alerts) yet: run `sluice migrate` to apply the feature store's migrations")
        }
    }

    private static func quoted(_ schema: String) -> String {
        "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func query(_ connection: PostgresConnection, s: String, model: String?) async throws -> [DriftStatus] {
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
        var reports: [String: DriftStatus.Report] = [:]
        for row in reportRows {
            let id = try row.decode(Int64.self, column: 0)
            let resultsText = try row.decode(String.self, column: 12)
            let results: [DriftStatus.Result]
            do {
                results = try JSONDecoder().decode([DriftStatus.Result].self, from: Data(resultsText.utf8))
            } catch {
                throw ServiceError("drift report #\(id) has results that are not an array of {feature, test, statistic, p_value, threshold, drifted, events}: \(error)")
            }
            reports[try row.decode(String.self, column: 1)] = DriftStatus.Report(
                id: id, modelVersion: try row.decode(Int.self, column: 2),
                evaluatedAt: try time(row, 3) ?? "",
                window: .init(start: try time(row, 4), end: try time(row, 5), events: try row.decode(Int64.self, column: 6)),
                referenceSource: try row.decode(String.self, column: 7), referenceEvents: try row.decode(Int64.self, column: 8),
                driftedFeatures: try row.decode(Int.self, column: 9), totalFeatures: try row.decode(Int.self, column: 10),
                datasetDrift: try row.decode(Bool.self, column: 11), results: results)
        }
        var alerts: [String: [DriftStatus.Alert]] = [:]
        for row in alertRows {
            let id = try row.decode(String.self, column: 0)
            let messageText = try row.decode(String.self, column: 15)
            let message: JSONValue
            do {
                message = try JSONDecoder().decode(JSONValue.self, from: Data(messageText.utf8))
            } catch {
                throw ServiceError("drift alert \(id) has a message that is not JSON: \(error)")
            }
            alerts[try row.decode(String.self, column: 3), default: []].append(DriftStatus.Alert(
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
            DriftStatus(model: name, latestReport: reports[name], firingAlerts: alerts[name] ?? [])
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
