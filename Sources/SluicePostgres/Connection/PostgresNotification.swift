/// A NOTIFY delivered to a listening connection.
package struct PostgresNotification: Sendable, Hashable {
    package var channel: String
    package var payload: String
    /// Process id of the notifying server session.
    package var pid: Int32
}
