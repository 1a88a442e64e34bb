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
    /// The key's bytes. A slice, so that the messages of one batch can share one buffer (one allocation for the
    /// whole batch instead of one per message); librdkafka copies them when the message is produced.
    package var keyBytes: ArraySlice<UInt8>?
    /// The value's bytes; a slice for the same reason as `keyBytes`.
    package var valueBytes: ArraySlice<UInt8>
    package var headers: [KafkaHeader]
    /// Record timestamp in milliseconds since the Unix epoch; nil uses the current time.
    package var timestampMillis: Int64?

    package init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8], headers: [KafkaHeader] = [], timestampMillis: Int64? = nil) {
        self.init(topic: topic, partition: partition, keyBytes: key?[...], valueBytes: value[...], headers: headers, timestampMillis: timestampMillis)
    }

    package init(topic: String, partition: Int32? = nil, keyBytes: ArraySlice<UInt8>?, valueBytes: ArraySlice<UInt8>, headers: [KafkaHeader] = [],
                 timestampMillis: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.keyBytes = keyBytes
        self.valueBytes = valueBytes
        self.headers = headers
        self.timestampMillis = timestampMillis
    }

    /// The key as an array (no copy when the slice spans its whole buffer).
    package var key: [UInt8]? {
        get { keyBytes.map { Array($0) } }
        set { keyBytes = newValue?[...] }
    }

    /// The value as an array (no copy when the slice spans its whole buffer).
    package var value: [UInt8] {
        get { Array(valueBytes) }
        set { valueBytes = newValue[...] }
    }
}

/// Kafka's acknowledgement of a produced message.
package struct KafkaDeliveryReport: Sendable, Hashable {
    package var topic: String
    package var partition: Int32
    package var offset: Int64
}
