/// Extra librdkafka settings (`kafka.properties`) passed to both the consumer and the producer, e.g. SASL and SSL.
///
/// Values whose key contains `password`, `secret` or `sasl.oauthbearer` are secrets: they are redacted in every
/// printed form (description, dump, `renderEffective()`).
package struct KafkaProperties: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private var storage: [String: String]

    /// Creates the set from key → value pairs.
    package init(_ entries: [String: String] = [:]) {
        storage = entries
    }

    /// The value set for `key`.
    package subscript(key: String) -> String? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    /// All keys, sorted.
    package var keys: [String] { storage.keys.sorted() }

    /// True when no property is set.
    package var isEmpty: Bool { storage.isEmpty }

    /// All pairs, sorted by key, with secret values in clear: for handing to librdkafka only.
    package var entries: [(key: String, value: String)] {
        keys.map { ($0, storage[$0] ?? "") }
    }

    /// All pairs, sorted by key, with secret values replaced by `<redacted>`.
    package var redactedEntries: [(key: String, value: String)] {
        keys.map { ($0, Self.isSecret(key: $0) ? ConfigSecret.placeholder : storage[$0] ?? "") }
    }

    /// Whether a librdkafka property holds a secret (its key contains password, secret or sasl.oauthbearer).
    package static func isSecret(key: String) -> Bool {
        let lower = key.lowercased()
        return lower.contains("password") || lower.contains("secret") || lower.contains("sasl.oauthbearer")
    }

    /// Redacted `[key: value, …]`.
    package var description: String {
        "[" + redactedEntries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "]"
    }

    /// Redacted `[key: value, …]`.
    package var debugDescription: String { description }

    /// A mirror showing only redacted values.
    package var customMirror: Mirror {
        Mirror(self, children: redactedEntries.map { (label: $0.key as String?, value: $0.value as Any) }, displayStyle: .dictionary)
    }
}
