/// An error in a window's settings or input.
package struct WindowConfigurationError: Error, CustomStringConvertible, Equatable {
    /// Stable error code for logs and metrics.
    package static let code = "drift.window.invalid"
    /// What was wrong and what was expected.
    package var message: String
    package var description: String { message }
}
