/// The promotion gate could not evaluate the candidate: no snapshot, a snapshot file it cannot use, or a model it
/// cannot score. (A requirement that is not met is no error: it is a ``GateReport`` that refuses.)
package struct GateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category of a ``GateError``.
    package enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// No snapshot with the given id, or no snapshot of the model at all.
        case noSnapshot = "no_snapshot"
        /// The snapshot's CSV file is missing, unreadable, or not in the snapshot format.
        case invalidSnapshot = "invalid_snapshot"
        /// A model cannot be scored on the snapshot (a feature column is missing, a cell is not a number, the model
        /// has several outputs) or a metric cannot be computed on its scores.
        case cannotEvaluate = "cannot_evaluate"

        package var description: String { rawValue }
    }

    /// The category.
    package var code: Code
    /// What was wrong and what was expected.
    package var message: String

    /// Creates an error.
    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
