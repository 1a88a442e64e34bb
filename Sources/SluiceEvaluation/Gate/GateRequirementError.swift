/// A `--require` text that does not parse, naming the text and the form expected.
package struct GateRequirementError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The text as given.
    package var text: String
    /// What is wrong with it and what was expected.
    package var message: String

    /// Creates an error.
    package init(text: String, message: String) {
        self.text = text
        self.message = message
    }

    package var description: String { message }
}
