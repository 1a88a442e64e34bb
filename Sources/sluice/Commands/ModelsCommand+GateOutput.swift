import Foundation
import SluiceEvaluation
import SluiceFeatures
import SluiceInference
import SluiceRegistry

/// How `sluice models promote --require …` prints the promotion gate: a table for people, JSON for programs.
extension ModelsCommand {
    /// The exit status of a promotion the gate refused (1 is an error, 2 an invalid configuration, 64 bad usage).
    static let gateRefusedStatus: Int32 = 3

    /// `promote --json`: whether the version was promoted, the version (in its new stage, or as it stays), and the
    /// gate's figures when there were requirements.
    struct PromoteJSON: Encodable {
        var promoted: Bool
        var model: ModelJSON
        var gate: GateJSON?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(promoted, forKey: .promoted)
            try container.encode(model, forKey: .model)
            try container.encodeIfPresent(gate, forKey: .gate)
        }

        enum CodingKeys: String, CodingKey { case promoted, model, gate }
    }

    /// The gate's evaluation as printed by `promote --json`.
    struct GateJSON: Encodable {
        struct Snapshot: Encodable {
            var snapshotID: String
            var createdAt: String
            var csvFile: String
            /// `holdout` (rows with split = holdout) or `all` (the snapshot has no split column).
            var rows: String
            var rowsEvaluated: Int

            enum CodingKeys: String, CodingKey {
                case snapshotID = "snapshot_id", createdAt = "created_at", csvFile = "csv_file", rows, rowsEvaluated = "rows_evaluated"
            }
        }

        struct Version: Encodable {
            var version: Int
            var format: String
            var stage: String
        }

        struct Requirement: Encodable {
            var requirement: String
            var metric: String
            var `operator`: String
            var candidate: Double
            var production: Double?
            var threshold: Double?
            var result: String
            var reason: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(requirement, forKey: .requirement)
                try container.encode(metric, forKey: .metric)
                try container.encode(`operator`, forKey: .operator)
                try container.encode(candidate.isFinite ? candidate : nil, forKey: .candidate)
                try container.encode(production, forKey: .production)  // null rather than absent
                try container.encode(threshold, forKey: .threshold)
                try container.encode(result, forKey: .result)
                try container.encode(reason, forKey: .reason)
            }

            enum CodingKeys: String, CodingKey { case requirement, metric, `operator`, candidate, production, threshold, result, reason }
        }

        var passed: Bool
        var snapshot: Snapshot
        var candidate: Version
        var production: Version?
        var requirements: [Requirement]
        var notes: [String]

        init(_ report: GateReport) {
            passed = report.passed
            snapshot = Snapshot(snapshotID: report.snapshot.snapshotID, createdAt: formatRFC3339(millis: report.snapshot.createdAtMillis),
                                csvFile: report.csvPath, rows: report.usesSplit ? "holdout" : "all", rowsEvaluated: report.rowsEvaluated)
            candidate = Version(version: report.candidate.version, format: report.candidate.format.rawValue, stage: report.candidate.stage.rawValue)
            production = report.production.map { Version(version: $0.version, format: $0.format.rawValue, stage: $0.stage.rawValue) }
            requirements = report.checks.map { check in
                Requirement(requirement: check.requirement.text, metric: check.requirement.metric.rawValue,
                            operator: check.requirement.comparison.rawValue, candidate: check.candidate, production: check.production,
                            threshold: check.threshold, result: check.outcome.label, reason: check.outcome.reason)
            }
            notes = report.notes
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(passed, forKey: .passed)
            try container.encode(snapshot, forKey: .snapshot)
            try container.encode(candidate, forKey: .candidate)
            try container.encode(production, forKey: .production)  // null when there is none
            try container.encode(requirements, forKey: .requirements)
            try container.encode(notes, forKey: .notes)
        }

        enum CodingKeys: String, CodingKey { case passed, snapshot, candidate, production, requirements, notes }
    }

    /// The gate as text: where the figures come from, a table with one row per requirement, then the notes.
    static func gateText(_ report: GateReport, stage: ModelStage) -> String {
        let name = report.candidate.name
        var lines: [String] = []
        lines.append("promotion gate: \(name) version \(report.candidate.version) → \(stage.rawValue)")
        let rows = report.usesSplit ? "\(report.rowsEvaluated) holdout rows" : "all \(report.rowsEvaluated) rows (no split column)"
        lines.append("snapshot \(report.snapshot.snapshotID) (created \(time(report.snapshot.createdAtMillis))): \(rows) of \(report.csvPath)")
        let production = report.production.map { "version \($0.version) (\($0.format.rawValue))" } ?? "none"
        lines.append("candidate: version \(report.candidate.version) (\(report.candidate.format.rawValue), \(report.candidate.stage.rawValue)); production: \(production)")
        lines.append("")
        var table = [["METRIC", "CANDIDATE", "PRODUCTION", "REQUIREMENT", "RESULT"]]
        for check in report.checks {
            var requirement = check.requirement.text
            if check.requirement.bound.referencesProduction, let threshold = check.threshold {
                requirement += " (\(check.requirement.comparison) \(GateRequirement.format(threshold)))"
            }
            table.append([check.requirement.metric.rawValue, GateRequirement.format(check.candidate),
                          check.production.map(GateRequirement.format) ?? "-", requirement, check.outcome.label])
        }
        lines.append(ModelsCommand.table(table))
        if !report.notes.isEmpty {
            lines.append("")
            lines += report.notes.map { "note: \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// Why the gate refused, for standard error: one line, then one indented line per failed requirement.
    static func refusal(_ report: GateReport, stage: ModelStage) -> String {
        let failures = report.failures
        let name = report.candidate.name
        let unchanged = report.production.map { "version \($0.version) stays production" } ?? "there is still no production version"
        var text = "refused: \(failures.count) of \(report.checks.count) requirement(s) not met, so \(name) version \(report.candidate.version) was not promoted to \(stage.rawValue) (it stays \(report.candidate.stage.rawValue); \(unchanged))\n"
        for check in failures {
            text += "  \(check.requirement.text): \(check.outcome.reason ?? "failed")\n"
        }
        return text
    }
}
