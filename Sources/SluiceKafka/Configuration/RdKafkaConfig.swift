import CRdKafka

/// Builds a librdkafka `rd_kafka_conf_t` from key/value properties, failing on the first unknown or invalid one
/// with the property's name and librdkafka's reason.
enum RdKafkaConfig {
    /// Returns a new configuration object; the caller passes it to `rd_kafka_new` (which takes ownership) or destroys it.
    static func make(_ properties: [(String, String)]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .configuration, message: "librdkafka could not allocate a configuration")
        }
        for (key, value) in properties {
            let (result, text) = CString.withErrorBuffer { rd_kafka_conf_set(conf, key, value, $0, $1) }
            switch result {
            case RD_KAFKA_CONF_OK:
                continue
            case RD_KAFKA_CONF_UNKNOWN:
                rd_kafka_conf_destroy(conf)
                throw KafkaError(code: .configuration, message: "unknown librdkafka property '\(key)' (\(text)); see librdkafka's CONFIGURATION.md for valid names")
            default:
                rd_kafka_conf_destroy(conf)
                let shown = isSecret(key) ? "<redacted>" : "'\(value)'"
                throw KafkaError(code: .configuration, message: "invalid value \(shown) for librdkafka property '\(key)': \(text)")
            }
        }
        return conf
    }

    /// Whether a property holds a secret that must never be printed.
    static func isSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return lowered.contains("password") || lowered.contains("secret") || lowered.hasSuffix(".key.pem")
            || lowered.contains("sasl.oauthbearer.config")
    }
}
