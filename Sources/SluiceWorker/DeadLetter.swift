import SluiceKafka

/// Dead letters: the original bytes and key, with headers naming the error and where the message came from.
enum DeadLetter {
    /// `sluice.error` (a sentence), `sluice.error.reason` (a counter name), `sluice.source.topic|partition|offset`.
    static func message(to topic: String, from source: KafkaMessage, reason: String, description: String) -> KafkaProducerMessage {
        message(to: topic, key: source.key.map(Array.init), value: Array(source.value), sourceTopic: source.topic,
                partition: source.partition, offset: source.offset, reason: reason, description: description)
    }

    static func message(to topic: String, key: [UInt8]?, value: [UInt8], sourceTopic: String, partition: Int32, offset: Int64,
                        reason: String, description: String) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: topic, key: key, value: value,
            headers: [KafkaHeader(name: "sluice.error", text: description),
                      KafkaHeader(name: "sluice.error.reason", text: reason),
                      KafkaHeader(name: "sluice.source.topic", text: sourceTopic),
                      KafkaHeader(name: "sluice.source.partition", text: String(partition)),
                      KafkaHeader(name: "sluice.source.offset", text: String(offset))])
    }
}
