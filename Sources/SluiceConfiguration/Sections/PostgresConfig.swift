/// `postgres:` — the feature store connection.
package struct PostgresConfig: Hashable, Sendable {
    /// `url`: libpq connection string (URL or `key=value` form). A secret: printed with its password redacted.
    package var url: ConfigSecret = .postgresURL("postgres://postgres@127.0.0.1:5432/sluice")
    /// `pool_size`: connections kept open (1…64).
    package var poolSize: Int = 4
    /// `connect_timeout`.
    package var connectTimeout: Duration = .seconds(10)
    /// `schema`: the PostgreSQL schema holding Sluice's tables.
    package var schema: String = "sluice"
    /// `synchronous_commit`: when false, the worker's micro-batch transactions do not wait for the WAL flush.
    /// Exactly-once is unaffected (offsets commit or vanish together with the features); a PostgreSQL crash
    /// may lose the last few hundred milliseconds of commits, whose events are then read again from Kafka.
    package var synchronousCommit: Bool = true

    /// All defaults.
    package init() {}

    static let urlParser = ValueParser<ConfigSecret>(
        expected: "a libpq connection string such as postgres://user:password@host:5432/database"
    ) { text in
        // The value is a secret: the message must not repeat it.
        PostgresURLRedaction.isConnectionString(text)
            ? .success(.postgresURL(text))
            : .failure(ValueIssue(
                "the value (not shown: it is a secret) is not a libpq connection string; expected postgres://user:password@host:5432/database or host=… dbname=… pairs"))
    }

    static func decode(_ m: MappingReader) -> PostgresConfig {
        var c = PostgresConfig()
        c.url = m.read("url", urlParser, secret: true).value ?? c.url
        c.poolSize = m.value("pool_size", default: c.poolSize, .integer(1...64))
        c.connectTimeout = m.value("connect_timeout", default: c.connectTimeout, .duration(.seconds(1)...Duration.seconds(600)))
        c.schema = m.value("schema", default: c.schema, .identifier)
        c.synchronousCommit = m.value("synchronous_commit", default: c.synchronousCommit, .bool)
        return c
    }
}
