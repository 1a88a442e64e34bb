import SluiceEvaluation

/// What the promotion gate found: the snapshot it evaluated on, both versions, and each requirement's outcome.
package struct GateReport: Sendable {
    /// The snapshot evaluated on.
    package var snapshot: SnapshotRecord
    /// Its CSV file, resolved (``SnapshotRecord/csvPath``).
    package var csvPath: String
    /// Whether the rows are the snapshot's holdout (`split = holdout`), or every row because it has no split.
    package var usesSplit: Bool
    /// How many rows the metrics were computed on.
    package var rowsEvaluated: Int
    /// The version asked to be promoted.
    package var candidate: RegisteredModel
    /// The current production version, when there is one.
    package var production: RegisteredModel?
    /// One result per requirement, in the order given.
    package var checks: [GateCheck]
    /// Things a person should know about how the figures were obtained (no split, skipped requirements, …).
    package var notes: [String]

    /// Creates a report.
    package init(snapshot: SnapshotRecord, csvPath: String, usesSplit: Bool, rowsEvaluated: Int, candidate: RegisteredModel,
                 production: RegisteredModel?, checks: [GateCheck], notes: [String]) {
        self.snapshot = snapshot
        self.csvPath = csvPath
        self.usesSplit = usesSplit
        self.rowsEvaluated = rowsEvaluated
        self.candidate = candidate
        self.production = production
        self.checks = checks
        self.notes = notes
    }

    /// Whether every requirement passed (or was skipped with `--allow-first`).
    package var passed: Bool { checks.allSatisfy(\.allowsPromotion) }

    /// The requirements that did not pass.
    package var failures: [GateCheck] { checks.filter { !$0.allowsPromotion } }
}
