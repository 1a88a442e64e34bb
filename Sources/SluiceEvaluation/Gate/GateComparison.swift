/// The comparison of a promotion gate requirement: the candidate's metric against a bound.
package enum GateComparison: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case greaterOrEqual = ">="
    case greater = ">"
    case lessOrEqual = "<="
    case less = "<"

    package var description: String { rawValue }

    /// Whether `value` compares with `bound` as this operator says. NaN satisfies nothing.
    package func holds(_ value: Double, _ bound: Double) -> Bool {
        switch self {
        case .greaterOrEqual: value >= bound
        case .greater: value > bound
        case .lessOrEqual: value <= bound
        case .less: value < bound
        }
    }
}
