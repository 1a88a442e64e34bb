/// A feature declaration that cannot be used, with the feature's name and what was expected.
package struct FeatureSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable error code for logs and metrics.
    package static let code = "feature_spec_invalid"
    /// The name of the offending feature.
    package var feature: String
    /// What was wrong and what was expected, prefixed with the feature name.
    package var message: String

    init(feature: String, _ detail: String) {
        self.feature = feature
        self.message = "feature '\(feature)': \(detail)"
    }

    package var description: String { message }
}
