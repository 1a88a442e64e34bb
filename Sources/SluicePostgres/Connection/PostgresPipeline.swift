/// Statements collected for one pipelined round trip (see `PostgresConnection.pipeline`).
package struct PostgresPipeline: Sendable {
    struct Statement: Sendable {
        var sql: String
        var binds: PostgresBindings
    }

    var statements: [Statement] = []

    package init() {}

    /// Queues a statement; it is sent with the others when the closure returns.
    package mutating func send(_ sql: String, _ binds: PostgresBindings = []) {
        statements.append(Statement(sql: sql, binds: binds))
    }

    /// Number of statements queued.
    package var count: Int { statements.count }
}
