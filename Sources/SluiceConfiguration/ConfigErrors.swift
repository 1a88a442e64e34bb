/// Every problem found in one load, reported together so an operator can fix them all at once.
package struct ConfigErrors: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems in file order (line, column); those without a file position (environment variables,
    /// cross-key checks) follow in the order they were found.
    package var errors: [ConfigError]

    /// Creates the list.
    package init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One line per problem, headed by a count.
    package var description: String {
        let head = errors.count == 1 ? "invalid configuration (1 problem):" : "invalid configuration (\(errors.count) problems):"
        return ([head] + errors.map { "  - " + $0.description }).joined(separator: "\n")
    }

    /// The first error with the given path, for tests and callers that look for one key.
    package func first(at path: String) -> ConfigError? {
        errors.first { $0.path == path }
    }
}
