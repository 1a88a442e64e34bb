/// The outcome of one drift test on one feature.
package struct DriftTestResult: Codable, Sendable, Equatable {
    /// Which test ran.
    package var test: DriftTest
    /// The test statistic (D, χ², z, normed distance, JS distance or PSI).
    package var statistic: Double
    /// The p-value for hypothesis tests; nil for distances.
    package var pValue: Double?
    /// The threshold the decision used.
    package var threshold: Double
    /// Whether the feature drifted.
    package var drifted: Bool

    /// Builds a result and applies the test's decision rule.
    package init(test: DriftTest, statistic: Double, pValue: Double?, threshold: Double) {
        self.test = test
        self.statistic = statistic
        self.pValue = pValue
        self.threshold = threshold
        self.drifted = test.isDrift(statistic: statistic, pValue: pValue, threshold: threshold)
    }
}
