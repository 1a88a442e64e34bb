/// Drift-evaluation settings: per-feature overrides and the dataset rule.
package struct DriftConfiguration: Codable, Sendable, Equatable {
    /// Overrides by feature name.
    package var overrides: [String: FeatureDriftOverride]
    /// The dataset drifts when at least this share of features drifted (Evidently: 0.5).
    package var driftShare: Double
    /// Coarse bins used by JS/PSI on numerical windows (reference-quantile groups of the fine bins).
    package var coarseBins: Int

    /// Which chi-square formula runs (Evidently's goodness of fit by default).
    package var chiSquareMode: ChiSquareMode

    /// How KS p-values are computed (scipy's `auto` by default).
    package var ksMethod: KSMethod

    package init(
        overrides: [String: FeatureDriftOverride] = [:], driftShare: Double = 0.5, coarseBins: Int = 10,
        chiSquareMode: ChiSquareMode = .goodnessOfFit, ksMethod: KSMethod = .auto
    ) {
        self.overrides = overrides
        self.driftShare = driftShare
        self.coarseBins = coarseBins
        self.chiSquareMode = chiSquareMode
        self.ksMethod = ksMethod
    }

    /// The test and threshold that apply to a feature. An override naming a
    /// numerical-only test for a categorical feature is ignored here (the default
    /// test runs); `validate(profile:)` reports it at start-up.
    package func resolve(feature: String, referenceSize: Int, kind: FeatureKind, uniqueCount: Int) -> (test: DriftTest, threshold: Double) {
        let override = overrides[feature]
        var test = DriftTestSelector.select(referenceSize: referenceSize, kind: kind, uniqueCount: uniqueCount)
        if let wanted = override?.test, kind == .numerical || wanted.allowsCategorical { test = wanted }
        return (test, override?.threshold ?? test.defaultThreshold)
    }

    /// Checks the overrides against a profile: every override names a known feature,
    /// uses a test that applies to its kind, and has a positive, finite threshold.
    /// - Throws: `DriftConfigurationError` naming the feature and what was expected.
    package func validate(profile: ReferenceProfile) throws {
        let kinds = Dictionary(profile.features.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        for (name, override) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let kind = kinds[name] else {
                throw DriftConfigurationError(message: "drift override for unknown feature '\(name)'; expected one of \(profile.features.map(\.name))")
            }
            if let test = override.test, kind == .categorical, !test.allowsCategorical {
                throw DriftConfigurationError(message: "drift override for categorical feature '\(name)' uses '\(test.rawValue)', which needs a numerical feature; expected chisquare, z, jensenshannon or psi")
            }
            if let t = override.threshold, !(t > 0 && t.isFinite) {
                throw DriftConfigurationError(message: "drift threshold for feature '\(name)' is \(t); expected a positive, finite number")
            }
        }
        guard driftShare > 0, driftShare <= 1 else {
            throw DriftConfigurationError(message: "drift share is \(driftShare); expected a number in (0, 1]")
        }
    }

    /// Evidently's dataset rule: drifted when drifted/total ≥ driftShare (and total > 0).
    package func datasetDrifted(driftedFeatures: Int, totalFeatures: Int) -> Bool {
        totalFeatures > 0 && Double(driftedFeatures) / Double(totalFeatures) >= driftShare
    }
}
