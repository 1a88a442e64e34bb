/// A Kafka record header.
package struct KafkaHeader: Sendable, Hashable {
    package var name: String
    /// The header value; nil is a null value (distinct from empty).
    package var value: [UInt8]?

    package init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// A header with a UTF-8 text value.
    package init(name: String, text: String) {
        self.init(name: name, value: Array(text.utf8))
    }
}

/// A message to produce.
package struct KafkaProducerMessage: Sendable {
    package var topic: String
    /// The target partition; nil lets librdkafka's partitioner pick one from the key.
    package var partition: Int32?
    package var key: [UInt8]?
    package var value: [UInt8]
    package var headers: [KafkaHeader]
    /// Record timestamp in milliseconds since the Unix epoch; nil uses the current time.
    package var timestampMillis: Int64?

    package init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8], headers: [KafkaHeader] = [], timestampMillis: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMillis = timestampMillis
    }
}

/// Kafka's acknowledgement of a produced message.
package struct KafkaDeliveryReport: Sendable, Hashable {
    package var topic: String
    package var partition: Int32
    package var offset: Int64
}
