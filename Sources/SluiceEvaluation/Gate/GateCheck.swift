/// The outcome of one ``GateRequirement`` for a candidate version.
package struct GateCheck: Sendable, Equatable {
    /// Whether the requirement held.
    package enum Outcome: Sendable, Equatable {
        /// The candidate met the requirement.
        case passed
        /// The candidate did not meet it, or it could not be evaluated; the text says which and why.
        case failed(String)
        /// Not evaluated (a production-relative requirement with no production version and `--allow-first`).
        case skipped(String)

        /// `pass`, `fail` or `skipped`, for tables and JSON.
        package var label: String {
            switch self {
            case .passed: "pass"
            case .failed: "fail"
            case .skipped: "skipped"
            }
        }

        /// Why it failed or was skipped; nil when it passed.
        package var reason: String? {
            switch self {
            case .passed: nil
            case .failed(let reason), .skipped(let reason): reason
            }
        }
    }

    /// The requirement checked.
    package var requirement: GateRequirement
    /// The candidate's value of the metric.
    package var candidate: Double
    /// The production version's value of the metric, when there is a production version.
    package var production: Double?
    /// The number the candidate was compared with; nil when the requirement was not evaluated.
    package var threshold: Double?
    /// Whether it held.
    package var outcome: Outcome

    /// Creates a result.
    package init(requirement: GateRequirement, candidate: Double, production: Double?, threshold: Double?, outcome: Outcome) {
        self.requirement = requirement
        self.candidate = candidate
        self.production = production
        self.threshold = threshold
        self.outcome = outcome
    }

    /// Whether this result lets the promotion go ahead (passed or skipped).
    package var allowsPromotion: Bool {
        if case .failed = outcome { return false }
        return true
    }
}
