/// `dead_letter:` — where refused events go.
package struct DeadLetterConfig: Hashable, Sendable {
    /// `topic_suffix`: appended to the input topic (`transactions` → `transactions.dlq`).
    package var topicSuffix: String = ".dlq"
    /// `topic`: one fixed dead-letter topic for every input, overriding the suffix.
    package var topic: String?

    /// All defaults.
    package init() {}

    /// The dead-letter topic for events read from `inputTopic`.
    package func topic(forInput inputTopic: String) -> String {
        topic ?? inputTopic + topicSuffix
    }

    static let suffixParser = ValueParser<String>(expected: "a non-empty topic-name suffix from [a-zA-Z0-9._-], e.g. .dlq") { text in
        if text.isEmpty || !text.utf8.allSatisfy(ValueParser<String>.isTopicByte) {
            return .failure(ValueIssue("'\(text)' is not a valid topic suffix; expected a non-empty suffix from [a-zA-Z0-9._-], e.g. .dlq"))
        }
        return .success(text)
    }

    static func decode(_ m: MappingReader) -> DeadLetterConfig {
        var c = DeadLetterConfig()
        c.topicSuffix = m.value("topic_suffix", default: c.topicSuffix, suffixParser)
        c.topic = m.optional("topic", .topic)
        return c
    }
}
