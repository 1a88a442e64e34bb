/// The statistical tests the drift monitor can run on one feature.
package enum DriftTest: String, Codable, Sendable, CaseIterable {
    /// Two-sample Kolmogorov–Smirnov; drift when p ≤ threshold (default 0.05).
    case kolmogorovSmirnov = "ks"
    /// Chi-square goodness of fit of current counts vs reference proportions; drift when p < threshold (0.05).
    case chiSquare = "chisquare"
    /// Z-test for two proportions (two categories); drift when p < threshold (0.05).
    case zTest = "z"
    /// Wasserstein distance normed by max(std_ref, 0.001); drift when ≥ threshold (0.1).
    case wasserstein = "wasserstein"
    /// Jensen–Shannon distance (natural log); drift when ≥ threshold (0.1).
    case jensenShannon = "jensenshannon"
    /// Population stability index; drift when ≥ threshold (0.1), "major" from 0.2.
    case psi = "psi"

    /// Evidently's default threshold for the test.
    package var defaultThreshold: Double {
        switch self {
        case .kolmogorovSmirnov, .chiSquare, .zTest: 0.05
        case .wasserstein, .jensenShannon, .psi: 0.1
        }
    }

    /// True when the test reports a p-value (small is drift); false for distances (large is drift).
    package var usesPValue: Bool {
        switch self {
        case .kolmogorovSmirnov, .chiSquare, .zTest: true
        case .wasserstein, .jensenShannon, .psi: false
        }
    }

    /// Whether the test applies to categorical features (Evidently: KS and Wasserstein are numerical-only).
    package var allowsCategorical: Bool {
        switch self {
        case .kolmogorovSmirnov, .wasserstein: false
        case .chiSquare, .zTest, .jensenShannon, .psi: true
        }
    }

    /// Applies Evidently's comparison: `p ≤ t` for KS, `p < t` for chi-square and Z, `s ≥ t` for distances.
    package func isDrift(statistic: Double, pValue: Double?, threshold: Double) -> Bool {
        switch self {
        case .kolmogorovSmirnov: (pValue ?? 1) <= threshold
        case .chiSquare, .zTest: (pValue ?? 1) < threshold
        case .wasserstein, .jensenShannon, .psi: statistic >= threshold
        }
    }
}
