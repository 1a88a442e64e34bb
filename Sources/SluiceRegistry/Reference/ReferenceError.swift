/// Reference data that cannot become a reference profile: an unreadable or malformed CSV file, a cell that is not
/// what its column needs, a file format that is not supported, or a stored profile that no longer decodes.
package struct ReferenceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Stable error code for logs and metrics.
    package static let code = "registry.reference.invalid"
    /// What was wrong and what was expected, naming the file, line and column when there are some.
    package var message: String
    /// The file the data came from, as the user named it.
    package var file: String?
    /// The 1-based line of the file (the header is line 1).
    package var line: Int?
    /// The column's name in the header.
    package var column: String?

    /// Creates an error.
    package init(_ message: String, file: String? = nil, line: Int? = nil, column: String? = nil) {
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    package var description: String { message }
}
