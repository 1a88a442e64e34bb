import Foundation
import SluiceEvaluation
import SluiceFeatures
import SluiceInference
import SluiceRegistry
import SluiceService

/// How `sluice models promote --require …` prints the promotion gate: a table for people, JSON for programs.
extension ModelsCommand {
    /// The exit status of a promotion the gate refused (1 is an error, 2 an invalid configuration, 64 bad usage).
    static let gateRefusedStatus: Int32 = 3

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
