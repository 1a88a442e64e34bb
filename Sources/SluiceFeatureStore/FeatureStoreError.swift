/// An error of the feature store that is not a plain database error.
package struct FeatureStoreError: Error, CustomStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        package var description: String { name }
        /// Another worker took over a partition: this worker's writes for it were refused.
        package static let fenced = Code("fenced")
        /// The schema name is not a plain SQL identifier.
        package static let invalidSchema = Code("invalidSchema")
        /// The database holds a newer schema than this binary knows.
        package static let schemaTooNew = Code("schemaTooNew")
    }

    package var code: Code
    package var message: String

    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { "FeatureStoreError.\(code): \(message)" }
}
