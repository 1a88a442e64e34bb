import CRdKafka

extension RdKafkaConfig {
    /// Builds the configuration object a client would be created from and reads `keys` back from it with
    /// `rd_kafka_conf_get`: what librdkafka itself holds, after its own parsing (so aliases such as
    /// `sasl.mechanisms` → `sasl.mechanism` resolve). Nil for a key librdkafka does not know.
    static func readBack(_ properties: [(String, String)], keys: [String]) throws(KafkaError) -> [String: String?] {
        let conf = try make(properties)
        defer { rd_kafka_conf_destroy(conf) }
        var result: [String: String?] = [:]
        for key in keys {
            var size = 0
            guard rd_kafka_conf_get(conf, key, nil, &size) == RD_KAFKA_CONF_OK else {
                result[key] = .some(nil)
                continue
            }
            var buffer = [CChar](repeating: 0, count: max(size, 1))
            _ = rd_kafka_conf_get(conf, key, &buffer, &size)
            result[key] = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        return result
    }
}

extension KafkaProducerConfiguration {
    /// The values librdkafka holds for `keys` in the configuration a producer is created from (for tests and
    /// diagnostics: proves that pass-through `properties` such as SASL and SSL settings reach librdkafka).
    /// Holds secrets in clear: never log the result.
    /// - Throws: `.configuration` for a property librdkafka refuses, as creating the producer would.
    package func librdkafkaValues(of keys: [String]) throws(KafkaError) -> [String: String?] {
        try RdKafkaConfig.readBack(librdkafkaProperties, keys: keys)
    }
}

extension KafkaConsumerConfiguration {
    /// The values librdkafka holds for `keys` in the configuration a consumer is created from (for tests and
    /// diagnostics: proves that pass-through `properties` such as SASL and SSL settings reach librdkafka).
    /// Holds secrets in clear: never log the result.
    /// - Throws: `.configuration` for a property librdkafka refuses, as creating the consumer would.
    package func librdkafkaValues(of keys: [String]) throws(KafkaError) -> [String: String?] {
        try RdKafkaConfig.readBack(librdkafkaProperties, keys: keys)
    }
}
