/// `kafka:` — brokers, consumer group and librdkafka tuning shared by the consumer and the producer.
package struct KafkaConfig: Hashable, Sendable {
    /// `kafka.consumer.assignment_strategy`.
    package enum AssignmentStrategy: String, CaseIterable, Hashable, Sendable {
        case range
        case roundrobin
        case cooperativeSticky = "cooperative-sticky"
    }

    /// `kafka.producer.compression`.
    package enum Compression: String, CaseIterable, Hashable, Sendable {
        case none, gzip, snappy, lz4, zstd
    }

    /// `kafka.consumer:`.
    package struct Consumer: Hashable, Sendable {
        /// `session_timeout` (librdkafka `session.timeout.ms`).
        package var sessionTimeout: Duration = .seconds(45)
        /// `max_poll_interval` (librdkafka `max.poll.interval.ms`).
        package var maxPollInterval: Duration = .seconds(300)
        /// `assignment_strategy`; eager `range` by default so every assignment is a full revoke/assign.
        package var assignmentStrategy: AssignmentStrategy = .range
        /// `poll_batch_size`: most messages taken from librdkafka per poll (a poll takes what is fetched; it never
        /// waits to fill a batch).
        package var pollBatchSize: Int = 500
        /// `buffered_batches`: polled batches queued per lane before consumption pauses (backpressure).
        package var bufferedBatches: Int = 4

        /// All defaults.
        package init() {}
    }

    /// `kafka.producer:`.
    package struct Producer: Hashable, Sendable {
        /// `linger` (librdkafka `linger.ms`).
        package var linger: Duration = .milliseconds(5)
        /// `batch_bytes` (librdkafka `batch.size`).
        package var batchBytes: Int = 1_000_000
        /// `compression` (librdkafka `compression.type`).
        package var compression: Compression = .lz4
        /// `message_timeout` (librdkafka `message.timeout.ms`): a delivery failing this long is an error.
        package var messageTimeout: Duration = .seconds(30)
        /// `max_message_bytes` (librdkafka `message.max.bytes`).
        package var maxMessageBytes: Int = 1_000_000
        /// `idempotence` (librdkafka `enable.idempotence`).
        package var idempotence: Bool = true

        /// All defaults.
        package init() {}
    }

    /// `brokers`: comma-separated bootstrap `host:port` list.
    package var brokers: String = "127.0.0.1:9092"
    /// `group`: consumer group id.
    package var group: String = "sluice"
    /// `client_id`.
    package var clientID: String = "sluice"
    /// `properties`: extra librdkafka settings for consumer and producer.
    package var properties = KafkaProperties()
    /// `consumer`.
    package var consumer = Consumer()
    /// `producer`.
    package var producer = Producer()

    /// All defaults.
    package init() {}

    /// librdkafka settings that Sluice sets from its own keys; naming them in `properties` is an error.
    static let managedProperties: [String: String] = [
        "bootstrap.servers": "kafka.brokers", "metadata.broker.list": "kafka.brokers",
        "group.id": "kafka.group", "client.id": "kafka.client_id",
        "enable.auto.commit": "nothing: offsets are committed to PostgreSQL",
        "enable.auto.offset.store": "nothing: offsets are committed to PostgreSQL",
        "session.timeout.ms": "kafka.consumer.session_timeout",
        "max.poll.interval.ms": "kafka.consumer.max_poll_interval",
        "partition.assignment.strategy": "kafka.consumer.assignment_strategy",
        "linger.ms": "kafka.producer.linger", "queue.buffering.max.ms": "kafka.producer.linger",
        "batch.size": "kafka.producer.batch_bytes",
        "compression.type": "kafka.producer.compression", "compression.codec": "kafka.producer.compression",
        "message.timeout.ms": "kafka.producer.message_timeout", "delivery.timeout.ms": "kafka.producer.message_timeout",
        "message.max.bytes": "kafka.producer.max_message_bytes",
        "enable.idempotence": "kafka.producer.idempotence",
    ]

    /// The librdkafka configuration for the consumer: Sluice's keys, then `properties` (secrets in clear).
    package var consumerSettings: [(key: String, value: String)] {
        [
            ("bootstrap.servers", brokers), ("group.id", group), ("client.id", clientID),
            ("session.timeout.ms", String(DurationFormat.milliseconds(of: consumer.sessionTimeout))),
            ("max.poll.interval.ms", String(DurationFormat.milliseconds(of: consumer.maxPollInterval))),
            ("partition.assignment.strategy", consumer.assignmentStrategy.rawValue),
            ("enable.auto.commit", "false"), ("enable.auto.offset.store", "false"),
        ] + properties.entries
    }

    /// The librdkafka configuration for the producer: Sluice's keys, then `properties` (secrets in clear).
    package var producerSettings: [(key: String, value: String)] {
        [
            ("bootstrap.servers", brokers), ("client.id", clientID),
            ("linger.ms", String(DurationFormat.milliseconds(of: producer.linger))),
            ("batch.size", String(producer.batchBytes)),
            ("compression.type", producer.compression.rawValue),
            ("message.timeout.ms", String(DurationFormat.milliseconds(of: producer.messageTimeout))),
            ("message.max.bytes", String(producer.maxMessageBytes)),
            ("enable.idempotence", producer.idempotence ? "true" : "false"),
        ] + properties.entries
    }

    static func decode(_ m: MappingReader) -> KafkaConfig {
        var c = KafkaConfig()
        c.brokers = m.value("brokers", default: c.brokers, .brokers)
        c.group = m.value("group", default: c.group, .nonEmptyString)
        c.clientID = m.value("client_id", default: c.clientID, .nonEmptyString)
        c.properties = decodeProperties(m)

        let consumer = m.section("consumer")
        c.consumer.sessionTimeout = consumer.value("session_timeout", default: c.consumer.sessionTimeout,
                                                   .duration(.seconds(1)...Duration.seconds(3600)))
        c.consumer.maxPollInterval = consumer.value("max_poll_interval", default: c.consumer.maxPollInterval,
                                                    .duration(.seconds(1)...Duration.seconds(86_400)))
        c.consumer.assignmentStrategy = consumer.value("assignment_strategy", default: c.consumer.assignmentStrategy, .oneOf(AssignmentStrategy.self))
        c.consumer.pollBatchSize = consumer.value("poll_batch_size", default: c.consumer.pollBatchSize, .integer(1...100_000))
        c.consumer.bufferedBatches = consumer.value("buffered_batches", default: c.consumer.bufferedBatches, .integer(1...1024))
        consumer.finish()

        let producer = m.section("producer")
        c.producer.linger = producer.value("linger", default: c.producer.linger, .duration(.zero...Duration.seconds(900)))
        c.producer.batchBytes = producer.value("batch_bytes", default: c.producer.batchBytes, .byteSize(1...2_147_483_647))
        c.producer.compression = producer.value("compression", default: c.producer.compression, .oneOf(Compression.self))
        c.producer.messageTimeout = producer.value("message_timeout", default: c.producer.messageTimeout,
                                                   .duration(.milliseconds(1)...Duration.milliseconds(2_147_483_647)))
        c.producer.maxMessageBytes = producer.value("max_message_bytes", default: c.producer.maxMessageBytes, .byteSize(1000...1_000_000_000))
        c.producer.idempotence = producer.value("idempotence", default: c.producer.idempotence, .bool)
        producer.finish()
        return c
    }

    /// `properties` from the file, then `SLUICE_KAFKA_PROPERTY_<key>` variables (one entry each; `_FILE` reads a file).
    private static func decodeProperties(_ m: MappingReader) -> KafkaProperties {
        var properties = KafkaProperties()
        let (path, entries) = m.mapEntries("properties")
        for entry in entries {
            let entryPath = path.entry(entry.key)
            guard case .scalar(let text, _) = entry.value.kind, !entry.value.isNull else {
                m.decoder.report(.invalidValue, at: entryPath, node: entry.value,
                                 "expected a string value for librdkafka property '\(entry.key)', found \(entry.value.isNull ? "null" : entry.value.shapeName)")
                continue
            }
            if checkKey(entry.key, path: entryPath, variable: nil, node: entry.value, m.decoder) {
                properties[entry.key] = text
            }
        }
        for variable in m.decoder.variables(withPrefix: "SLUICE_KAFKA_PROPERTY_") {
            var suffix = variable.suffix
            var value = variable.value
            if suffix.hasSuffix("_FILE") {
                suffix.removeLast(5)
                let key = propertyKey(fromVariableSuffix: suffix)
                switch m.decoder.readSecretFile(value) {
                case .success(let text): value = text
                case .failure(let issue):
                    m.decoder.report(.unreadableFile, at: path.entry(key), variable: variable.name, issue.message)
                    continue
                }
            }
            let key = propertyKey(fromVariableSuffix: suffix)
            if checkKey(key, path: path.entry(key), variable: variable.name, node: nil, m.decoder) {
                properties[key] = value
            }
        }
        return properties
    }

    /// `sasl.password` stays as written; an all-upper-case suffix such as `SASL_PASSWORD` becomes `sasl.password`.
    static func propertyKey(fromVariableSuffix suffix: String) -> String {
        let isShouting = suffix.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        return isShouting ? String(suffix.lowercased().map { $0 == "_" ? "." : $0 }) : suffix
    }

    private static func checkKey(_ key: String, path: ConfigPath, variable: String?, node: ConfigNode?, _ decoder: ConfigDecoder) -> Bool {
        let valid = !key.isEmpty && key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-"
        }
        if !valid {
            decoder.report(.invalidValue, at: path, variable: variable, node: node,
                           "'\(key)' is not a librdkafka property name; expected letters, digits, '.', '_' or '-'")
            return false
        }
        if let owner = managedProperties[key] {
            let hint = owner.hasPrefix("nothing") ? "Sluice sets it itself (\(owner.dropFirst(9)))" : "set \(owner) instead"
            decoder.report(.invalidValue, at: path, variable: variable, node: node,
                           "librdkafka property '\(key)' is managed by Sluice; \(hint)")
            return false
        }
        return true
    }
}
