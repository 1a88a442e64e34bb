/// One problem found while loading the configuration: where it is and what was expected.
///
/// `path` names the key (`features[3].window`, `kafka.producer.compression`); when the value came from an
/// environment variable it reads `SLUICE_X (x)`. `line`/`column` (1-based) point into the YAML file when known.
package struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable code for programs and tests.
    package enum Code: String, Hashable, Sendable {
        /// The YAML text could not be parsed.
        case syntax
        /// A key that the schema does not know.
        case unknownKey
        /// A required key is absent.
        case missingKey
        /// A value has the wrong shape or is out of range.
        case invalidValue
        /// A secret file could not be read.
        case unreadableFile
    }

    /// What kind of problem this is.
    package var code: Code
    /// The key path (`kafka.producer.compression`, `features[3].window`), or `SLUICE_X (x)` for environment values.
    package var path: String
    /// A sentence naming the value and what was expected.
    package var message: String
    /// For unknown keys or variables: the closest known name.
    package var suggestion: String?
    /// 1-based line in the YAML file, when the problem is located there.
    package var line: Int?
    /// 1-based column in the YAML file, when the problem is located there.
    package var column: Int?

    /// Creates an error.
    package init(
        code: Code, path: String, message: String, suggestion: String? = nil, line: Int? = nil, column: Int? = nil
    ) {
        self.code = code
        self.path = path
        self.message = message
        self.suggestion = suggestion
        self.line = line
        self.column = column
    }

    /// `path: message` with the file position when known, e.g.
    /// `source.alowed_lateness (line 4, column 3): unknown key; did you mean 'allowed_lateness'?`.
    package var description: String {
        var text = path.isEmpty ? "configuration" : path
        if let line {
            text += column.map { " (line \(line), column \($0))" } ?? " (line \(line))"
        }
        return text + ": " + message
    }
}
