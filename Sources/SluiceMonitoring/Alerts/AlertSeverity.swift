/// How serious a drift alert is.
///
/// Rule (by how far past the threshold the triggering result is):
/// - distance tests (Wasserstein, JS, PSI): statistic/threshold ≥ 4 → critical,
///   ≥ 2 → major, else minor (PSI with threshold 0.1: major from 0.2, critical from 0.4);
/// - p-value tests (KS, chi-square, Z): p < threshold/1000 → critical,
///   p < threshold/10 → major, else minor.
package enum AlertSeverity: String, Codable, Sendable, Comparable, CaseIterable {
    case minor, major, critical

    private var rank: Int {
        switch self {
        case .minor: 0
        case .major: 1
        case .critical: 2
        }
    }

    package static func < (lhs: AlertSeverity, rhs: AlertSeverity) -> Bool { lhs.rank < rhs.rank }

    /// The severity of a drifted result under the rule above.
    package static func of(_ result: DriftTestResult) -> AlertSeverity {
        if result.test.usesPValue {
            let p = result.pValue ?? 1
            if p < result.threshold / 1000 { return .critical }
            if p < result.threshold / 10 { return .major }
            return .minor
        }
        guard result.threshold > 0 else { return .critical }
        let ratio = result.statistic / result.threshold
        if ratio >= 4 { return .critical }
        if ratio >= 2 { return .major }
        return .minor
    }
}
