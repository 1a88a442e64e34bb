import SluiceKafka

/// Dead letters: the original bytes and key, with headers naming the error and where the message came from.
///
/// A dead letter must fit the producer's `message.max.bytes` (`kafka.producer.max_message_bytes`), or producing it
/// fails and, with it, the micro-batch: the worker would stop and, restarted, stop again on the same event. An event
/// too large for that limit is dead-lettered with the first bytes of its payload that fit, and the header
/// `sluice.payload.truncated` holding the original size.
enum DeadLetter {
    /// Room kept free for librdkafka's record framing beyond key, value and header bytes.
    static let framingBytes = 1_024

    /// `sluice.error` (a sentence), `sluice.error.reason` (a counter name), `sluice.source.topic|partition|offset`,
    /// and `sluice.payload.truncated` (the original size) when the payload had to be cut to `maxMessageBytes`.
    static func message(to topic: String, from source: KafkaMessage, reason: String, description: String,
                        maxMessageBytes: Int = .max) -> KafkaProducerMessage {
        message(to: topic, key: source.key.map(Array.init), value: source.value, sourceTopic: source.topic,
                partition: source.partition, offset: source.offset, reason: reason, description: description,
                maxMessageBytes: maxMessageBytes)
    }

    static func message<Value: Collection<UInt8>>(
        to topic: String, key: [UInt8]?, value: Value, sourceTopic: String, partition: Int32, offset: Int64,
        reason: String, description: String, maxMessageBytes: Int = .max
    ) -> KafkaProducerMessage {
        var headers = [KafkaHeader(name: "sluice.error", text: description),
                       KafkaHeader(name: "sluice.error.reason", text: reason),
                       KafkaHeader(name: "sluice.source.topic", text: sourceTopic),
                       KafkaHeader(name: "sluice.source.partition", text: String(partition)),
                       KafkaHeader(name: "sluice.source.offset", text: String(offset))]
        let headerBytes = headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
        let room = maxMessageBytes == .max ? Int.max
            : max(0, maxMessageBytes - (key?.count ?? 0) - headerBytes - framingBytes - 256)
        guard value.count > room else {
            return KafkaProducerMessage(topic: topic, key: key, value: Array(value), headers: headers)
        }
        headers[0] = KafkaHeader(name: "sluice.error", text: description + "; payload truncated from \(value.count) to \(room) bytes to fit kafka.producer.max_message_bytes")
        headers.append(KafkaHeader(name: "sluice.payload.truncated", text: String(value.count)))
        return KafkaProducerMessage(topic: topic, key: key, value: Array(value.prefix(room)), headers: headers)
    }
}
