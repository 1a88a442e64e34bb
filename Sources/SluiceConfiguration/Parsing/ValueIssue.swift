/// Why a single value was refused; the decoder adds the key path and file position.
package struct ValueIssue: Error, Hashable, Sendable {
    /// A sentence naming the value and what was expected.
    package var message: String

    /// Creates an issue.
    package init(_ message: String) {
        self.message = message
    }
}
