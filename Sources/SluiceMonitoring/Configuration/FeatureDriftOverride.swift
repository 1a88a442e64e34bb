/// A per-feature override of the test and/or its threshold.
package struct FeatureDriftOverride: Codable, Sendable, Equatable {
    /// The test to run instead of the default one; nil keeps the default.
    package var test: DriftTest?
    /// The threshold to use instead of the test's default; nil keeps the default.
    package var threshold: Double?

    package init(test: DriftTest? = nil, threshold: Double? = nil) {
        self.test = test
        self.threshold = threshold
    }
}
