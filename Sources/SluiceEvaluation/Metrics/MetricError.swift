/// A metric that cannot be computed on the given labels and scores, with what was wrong and what was expected.
package struct MetricError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category of a ``MetricError``.
    package enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// There are no rows to evaluate.
        case empty
        /// Labels and scores have different lengths.
        case lengthMismatch = "length_mismatch"
        /// A label is not 0 or 1 where a binary metric needs one.
        case notBinary = "not_binary"
        /// The labels hold only one class, so the metric (ROC AUC) is undefined.
        case singleClass = "single_class"
        /// A score is NaN or infinite, or outside [0, 1] where a probability is needed.
        case invalidScore = "invalid_score"
        /// A label is NaN or infinite.
        case invalidLabel = "invalid_label"

        package var description: String { rawValue }
    }

    /// The category.
    package var code: Code
    /// What was wrong (naming the metric and the offending row) and what was expected.
    package var message: String
    /// The 0-based row the error is about, when there is one.
    package var row: Int?

    /// Creates an error.
    package init(_ code: Code, _ message: String, row: Int? = nil) {
        self.code = code
        self.message = message
        self.row = row
    }

    package var description: String { message }
}
