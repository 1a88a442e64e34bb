import Foundation
import SluiceEvaluation
import SluiceFeatures
import SluiceInference
import SluiceRegistry

// The JSON documents of the model registry, shared by `sluice models … --json` and the HTTP API (`/v1/models`).

/// A registered version as `sluice models … --json` and `GET /v1/models` print it.
package struct ModelJSON: Encodable, Sendable {
    package var name: String
    package var version: Int
    package var stage: String
    package var format: String
    package var sha256: String
    package var featureNames: [String]
    package var outputCount: Int
    package var description: String?
    package var createdAt: String
    package var stageChangedAt: String
    package var history: [StageChangeJSON]?

    enum CodingKeys: String, CodingKey {
        case name, version, stage, format, sha256, description, history
        case featureNames = "feature_names", outputCount = "output_count", createdAt = "created_at", stageChangedAt = "stage_changed_at"
    }

    package init(_ model: RegisteredModel, history: [ModelStageChange]? = nil) {
        name = model.name
        version = model.version
        stage = model.stage.rawValue
        format = model.format.rawValue
        sha256 = model.sha256
        featureNames = model.featureNames
        outputCount = model.outputCount
        description = model.description
        createdAt = formatRFC3339(millis: model.createdAtMillis)
        stageChangedAt = formatRFC3339(millis: model.stageChangedAtMillis)
        self.history = history.map { $0.map(StageChangeJSON.init) }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(version, forKey: .version)
        try container.encode(stage, forKey: .stage)
        try container.encode(format, forKey: .format)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(featureNames, forKey: .featureNames)
        try container.encode(outputCount, forKey: .outputCount)
        try container.encode(description, forKey: .description)  // null rather than absent
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(stageChangedAt, forKey: .stageChangedAt)
        try container.encodeIfPresent(history, forKey: .history)
    }
}

/// One stage change of a version as printed by `show --json`.
package struct StageChangeJSON: Encodable, Sendable {
    package var from: String?
    package var to: String
    package var changedAt: String

    enum CodingKeys: String, CodingKey { case from, to, changedAt = "changed_at" }

    package init(_ change: ModelStageChange) {
        from = change.from?.rawValue
        to = change.to.rawValue
        changedAt = formatRFC3339(millis: change.changedAtMillis)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(changedAt, forKey: .changedAt)
    }
}

/// `promote --json`: whether the version was promoted, the version (in its new stage, or as it stays), and the
/// gate's figures when there were requirements.
package struct PromoteJSON: Encodable, Sendable {
    package var promoted: Bool
    package var model: ModelJSON
    package var gate: GateJSON?

    package init(promoted: Bool, model: ModelJSON, gate: GateJSON?) {
        self.promoted = promoted
        self.model = model
        self.gate = gate
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(promoted, forKey: .promoted)
        try container.encode(model, forKey: .model)
        try container.encodeIfPresent(gate, forKey: .gate)
    }

    enum CodingKeys: String, CodingKey { case promoted, model, gate }
}

/// The gate's evaluation as printed by `promote --json`.
package struct GateJSON: Encodable, Sendable {
    package struct Snapshot: Encodable, Sendable {
        package var snapshotID: String
        package var createdAt: String
        package var csvFile: String
        /// `holdout` (rows with split = holdout) or `all` (the snapshot has no split column).
        package var rows: String
        package var rowsEvaluated: Int

        enum CodingKeys: String, CodingKey {
            case snapshotID = "snapshot_id", createdAt = "created_at", csvFile = "csv_file", rows, rowsEvaluated = "rows_evaluated"
        }
    }

    package struct Version: Encodable, Sendable {
        package var version: Int
        package var format: String
        package var stage: String
    }

    package struct Requirement: Encodable, Sendable {
        package var requirement: String
        package var metric: String
        var `operator`: String
        package var candidate: Double
        package var production: Double?
        package var threshold: Double?
        package var result: String
        package var reason: String?

        package func encode(to encoder: any Encoder) throws {
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

    package var passed: Bool
    package var snapshot: Snapshot
    package var candidate: Version
    package var production: Version?
    package var requirements: [Requirement]
    package var notes: [String]

    package init(_ report: GateReport) {
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

    package func encode(to encoder: any Encoder) throws {
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
