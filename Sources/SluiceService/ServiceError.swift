/// A failure of an admin operation that is not the registry's, the database's or Kafka's: says what was wrong
/// and what was expected.
package struct ServiceError: Error, CustomStringConvertible, Sendable {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
