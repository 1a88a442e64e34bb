/// Settings of a `KafkaProducer`. Typed fields cover what Sluice tunes; `properties` passes any other
/// librdkafka property through unchanged (SASL, SSL, …) and is applied last, so it can override a typed field.
package struct KafkaProducerConfiguration: Sendable {
    /// Compression codec for produced batches (librdkafka `compression.codec`).
    package enum Compression: String, Sendable, CaseIterable {
        case none, gzip, snappy, lz4, zstd
    }

    /// Comma-separated `host:port` list (librdkafka `bootstrap.servers`).
    package var bootstrapServers: String
    /// librdkafka `client.id`.
    package var clientID: String = "sluice"
    /// Idempotent producer (`enable.idempotence`): no duplicates or reordering from internal retries. On by default.
    package var idempotence: Bool = true
    /// How long to wait for more messages before sending a batch (`linger.ms`).
    package var lingerMillis: Int = 5
    /// Maximum bytes in one batch sent to a partition (`batch.size`).
    package var batchBytes: Int = 1_000_000
    /// Compression codec (`compression.codec`).
    package var compression: Compression = .none
    /// Time a message may wait for acknowledgement before it fails (`message.timeout.ms`).
    package var messageTimeoutMillis: Int = 30_000
    /// Largest message accepted (`message.max.bytes`).
    package var maxMessageBytes: Int = 1_000_000
    /// Bound of the producer's local queue (`queue.buffering.max.messages`); sends wait when it is full.
    package var queueMaxMessages: Int = 200_000
    /// Any other librdkafka property, passed through as given.
    package var properties: [String: String] = [:]

    package init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    /// The librdkafka properties this configuration sets, typed ones first, pass-through last.
    package var librdkafkaProperties: [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientID),
            ("enable.idempotence", idempotence ? "true" : "false"),
            ("linger.ms", String(lingerMillis)),
            ("batch.size", String(batchBytes)),
            ("compression.codec", compression.rawValue),
            ("message.timeout.ms", String(messageTimeoutMillis)),
            ("message.max.bytes", String(maxMessageBytes)),
            ("queue.buffering.max.messages", String(queueMaxMessages)),
        ]
        result += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
