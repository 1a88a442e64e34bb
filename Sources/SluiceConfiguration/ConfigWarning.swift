/// A problem that does not stop start-up, e.g. a `SLUICE_*` environment variable that no key reads.
package struct ConfigWarning: Hashable, Sendable, CustomStringConvertible {
    /// The environment variable concerned.
    package var variable: String
    /// What is wrong.
    package var message: String
    /// The closest known variable, when one is near.
    package var suggestion: String?

    /// Creates a warning.
    package init(variable: String, message: String, suggestion: String? = nil) {
        self.variable = variable
        self.message = message
        self.suggestion = suggestion
    }

    /// `VARIABLE: message`.
    package var description: String { "\(variable): \(message)" }
}
