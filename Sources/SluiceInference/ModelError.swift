/// An error raised while loading a model, validating an input row, or scoring a CSV file.
///
/// The message names what was wrong and what was expected, for example
/// `xgboost JSON: learner.gradient_booster.model.trees[3].split_conditions has 12 entries, expected 13 (num_nodes)`.
package struct ModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A stable, machine-readable category for a ``ModelError``.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String

        /// The model file is malformed, truncated or internally inconsistent.
        package static let invalidModel = Code(rawValue: "invalid_model")
        /// The model file is well formed but uses a feature this evaluator does not implement.
        package static let unsupportedModel = Code(rawValue: "unsupported_model")
        /// The bytes are not in any known model format, or not in the format that was asked for.
        package static let unknownFormat = Code(rawValue: "unknown_format")
        /// An input row is not acceptable to the model (wrong width, or a missing value the model refuses).
        package static let invalidInput = Code(rawValue: "invalid_input")
        /// A CSV file could not be read or does not hold the model's features.
        package static let invalidCSV = Code(rawValue: "invalid_csv")

        package var description: String { rawValue }
    }

    /// The category of the error.
    package let code: Code
    /// A readable explanation naming the offending field or value and what was expected.
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }

    static func invalid(_ message: String) -> ModelError { ModelError(.invalidModel, message) }
    static func unsupported(_ message: String) -> ModelError { ModelError(.unsupportedModel, message) }
}
