/// An invalid drift configuration.
package struct DriftConfigurationError: Error, CustomStringConvertible, Equatable {
    /// Stable error code for logs and metrics.
    package static let code = "drift.configuration.invalid"
    /// What was wrong and what was expected.
    package var message: String
    package var description: String { message }
}
