/// The right-hand side of a promotion gate requirement.
package enum GateBound: Sendable, Hashable {
    /// A fixed number, as in `auc>=0.8`.
    case value(Double)
    /// The production version's value of the same metric plus `offset`, as in `logloss<=production` (offset 0) or
    /// `auc>=production-0.01` (offset −0.01).
    case production(offset: Double)

    /// The number the candidate is compared with, given the production version's value (nil when there is no
    /// production version); nil when the bound needs production and there is none.
    package func resolve(production: Double?) -> Double? {
        switch self {
        case .value(let value): value
        case .production(let offset): production.map { $0 + offset }
        }
    }

    /// Whether the bound refers to the production version.
    package var referencesProduction: Bool {
        if case .production = self { return true }
        return false
    }
}
