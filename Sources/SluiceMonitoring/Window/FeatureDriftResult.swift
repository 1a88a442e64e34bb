/// One feature's drift outcome in an evaluation.
package struct FeatureDriftResult: Codable, Sendable, Equatable {
    /// Feature name.
    package var feature: String
    /// The test's result.
    package var result: DriftTestResult
    /// Non-missing window values the test saw.
    package var events: Int
}
