/// A snapshot that could not be taken, for a reason other than a plain database or Kafka error.
///
/// `code` says what kind of problem it is; `message` says what was wrong and what was expected, naming the
/// feature, prediction or request field involved.
package struct SnapshotError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        package var description: String { name }

        /// A request field is out of range (holdout fraction, row-group size, time range, model version).
        package static let invalidRequest = Code("invalidRequest")
        /// No labelled row matches the request; nothing was written.
        package static let noRows = Code("noRows")
        /// A feature holds numbers in some rows and strings (or booleans) in others.
        package static let mixedFeatureTypes = Code("mixedFeatureTypes")
        /// A row's features are not a flat JSON object of numbers, strings, booleans and nulls, or a stored
        /// value cannot be exported (an infinite timestamp).
        package static let invalidData = Code("invalidData")
        /// A file or directory operation failed.
        package static let io = Code("io")
        /// The schema has no `labelled` / `snapshots` tables: the feature store's migrations were not applied.
        package static let notMigrated = Code("notMigrated")
    }

    package var code: Code
    package var message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "SnapshotError.\(code): \(message)" }
}
