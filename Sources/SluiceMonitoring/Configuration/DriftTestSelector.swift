/// Evidently's default choice of drift test for a feature (`_get_default_stattest`).
///
/// `uniqueCount` is Evidently's `n_values`: distinct values over reference and current
/// together for exact comparisons; sliding windows pass the reference's count.
///
/// Reference size ≤ 1000: numerical features with more than 5 distinct values
/// use KS; categorical features, or numerical with ≤ 5 distinct values, use
/// chi-square, or the Z-test when there are at most 2 categories (Evidently's
/// rule is `n_values <= 2`, which also covers a constant feature).
/// Reference size > 1000: numerical with more than 5 distinct values use the
/// normed Wasserstein distance; everything else Jensen–Shannon.
package enum DriftTestSelector {
    /// Largest reference size that still uses hypothesis tests.
    package static let smallReferenceLimit = 1000
    /// Numerical features with at most this many distinct values are treated as categorical.
    package static let categoricalUniqueLimit = 5

    /// The default test for a feature.
    package static func select(referenceSize: Int, kind: FeatureKind, uniqueCount: Int) -> DriftTest {
        let treatAsCategorical = kind == .categorical || uniqueCount <= categoricalUniqueLimit
        if referenceSize <= smallReferenceLimit {
            if treatAsCategorical { return uniqueCount <= 2 ? .zTest : .chiSquare }
            return .kolmogorovSmirnov
        }
        return treatAsCategorical ? .jensenShannon : .wasserstein
    }
}
