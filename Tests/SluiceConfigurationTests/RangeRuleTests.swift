import Testing
@testable import SluiceConfiguration

/// The remaining per-key rules, one failing case each: (YAML appended to a valid base, path, message start).
@Suite struct RangeRuleTests {
    static let cases: [(String, String, String)] = [
        ("kafka:\n  client_id: \"\"", "kafka.client_id", "empty value; expected a non-empty string"),
        ("kafka:\n  properties:\n    \"bad key\": x", "kafka.properties[\"bad key\"]", "'bad key' is not a librdkafka property name"),
        ("kafka:\n  properties:\n    ssl.ca.location: [a]", "kafka.properties[\"ssl.ca.location\"]", "expected a string value for librdkafka property"),
        ("kafka:\n  consumer:\n    session_timeout: 2h", "kafka.consumer.session_timeout", "'2h' is out of range; expected a duration between 1s and 1h"),
        ("kafka:\n  consumer:\n    max_poll_interval: 500ms", "kafka.consumer.max_poll_interval", "'500ms' is out of range"),
        ("kafka:\n  consumer:\n    poll_batch_size: 0", "kafka.consumer.poll_batch_size", "0 is out of range; expected an integer between 1 and 100000"),
        ("kafka:\n  consumer:\n    buffered_batches: 2000", "kafka.consumer.buffered_batches", "2000 is out of range; expected an integer between 1 and 1024"),
        ("kafka:\n  producer:\n    linger: 1h", "kafka.producer.linger", "'1h' is out of range; expected a duration between 0s and 15m"),
        ("kafka:\n  producer:\n    message_timeout: 0s", "kafka.producer.message_timeout", "'0s' is out of range"),
        ("kafka:\n  producer:\n    max_message_bytes: 100", "kafka.producer.max_message_bytes", "'100' (100 bytes) is out of range"),
        ("kafka:\n  consumre: {}", "kafka.consumre", "unknown key; did you mean 'consumer'?"),
        ("postgres:\n  connect_timeout: 1h", "postgres.connect_timeout", "'1h' is out of range; expected a duration between 1s and 10m"),
        ("model:\n  name: \"\"", "model.name", "empty value; expected a non-empty string"),
        ("model:\n  refresh_interval: 100ms", "model.refresh_interval", "'100ms' is out of range"),
        ("model:\n  shadow: on", "model.shadow", "'on' is not a boolean; expected true or false"),
        ("drift:\n  enabled: 0", "drift.enabled", "'0' is not a boolean"),
        ("drift:\n  reference_events: 5", "drift.reference_events", "5 is out of range; expected an integer between 10 and 100000000"),
        ("drift:\n  alert:\n    consecutive: 0", "drift.alert.consecutive", "0 is out of range; expected an integer between 1 and 1000"),
        ("drift:\n  alert:\n    cooldown: 15", "drift.alert.cooldown", "'15' has no unit"),
        ("drift:\n  window:\n    size: 0", "drift.window.size", "0 is out of range"),
        ("drift:\n  step: 0", "drift.step", "0 is out of range; expected at least 1 event"),
        ("drift:\n  step: soon", "drift.step", "'soon' is neither a number of events nor a duration"),
        ("drift:\n  window: {kind: time, duration: 1h, size: 5}", "drift.window.size", "'size' applies to count windows"),
        ("drift:\n  window: {kind: time, duration: 1h}\n  step: 2h", "drift.step", "step 2h is longer than the window (1h)"),
        ("drift:\n  window: {kind: time, duration: 1h}\n  step: 100", "drift.step", "a time window slides by a duration"),
        ("drift:\n  overrides:\n    amount: ~", "drift.overrides.amount", "expected a mapping {test: …, threshold: …}, found null"),
        ("labels:\n  retry:\n    attempts: -1", "labels.retry.attempts", "-1 is out of range; expected an integer between 0 and 1000"),
        ("labels:\n  enabled: sometimes", "labels.enabled", "'sometimes' is not"),
        ("snapshots:\n  cooldown: -5m", "snapshots.cooldown", "'-5m' is not a valid duration"),
        ("snapshots:\n  row_group_rows: 0", "snapshots.row_group_rows", "0 is out of range"),
        ("snapshots:\n  directory: \"\"", "snapshots.directory", "empty value"),
        ("snapshots:\n  schedule: 10s", "snapshots.schedule", "'10s' is out of range; expected a duration between 1m and 365d"),
        ("logging:\n  format: xml", "logging.format", "'xml' is not valid; expected one of text, json"),
        ("outputs:\n  alerts_topic: \"drift alerts\"", "outputs.alerts_topic", "'drift alerts' is not a valid Kafka topic name"),
        ("outputs:\n  retrain_topic: transactions", "outputs.retrain_topic", "'transactions' is also an input topic"),
        ("dead_letter:\n  topic_suffix: \"/dlq\"", "dead_letter.topic_suffix", "'/dlq' is not a valid topic suffix"),
        ("dead_letter:\n  topic_suffix: ." + String(repeating: "x", count: 240), "dead_letter.topic_suffix", "'transactions." + String(repeating: "x", count: 240) + "' is longer than Kafka's 249-character topic limit"),
        ("http:\n  token: \"a b\"", "http.token", "the token (not shown: it is a secret) is empty or contains whitespace"),
        ("http:\n  address: \"[::1]8080\"", "http.address", "'[::1]8080' is not a valid address (missing ':port')"),
        ("shutdown:\n  timeout: 2h", "shutdown.timeout", "'2h' is out of range; expected a duration between 1s and 1h"),
    ]

    @Test(arguments: cases)
    func ruleFailsWithPathAndMessage(yaml: String, path: String, message: String) throws {
        let error = try #require(singleError(yaml))
        #expect(error.path == path)
        #expect(error.message.hasPrefix(message), "got: \(error.message)")
    }

    @Test func sourceRulesOnTheSourceSection() throws {
        let cases: [(String, String, String)] = [
            ("  event_id: user_id", "source.event_id", "'user_id' is already the entity field"),
            ("  max_payload_bytes: 8", "source.max_payload_bytes", "'8' (8 bytes) is out of range"),
            ("  max_future_skew: -1h", "source.max_future_skew", "'-1h' is not a valid duration"),
            ("  topics: {a: b}", "source.topics", "expected a list of a Kafka topic name"),
            ("  fields: [amount]", "source.fields", "expected a mapping, found a list"),
        ]
        for (line, path, message) in cases {
            // The line replaces nothing: keys appended after the base's last source key (duplicates excluded).
            let base = line.hasPrefix("  topics") || line.hasPrefix("  fields")
                ? "source:\n  entity: user_id\n  event_time: ts\n" + (line.hasPrefix("  fields") ? "  topics: [t]\n" : "  fields: {amount: double}\n") + line + "\n"
                : minimalSource + "\n" + line + "\n"
            let errors = loadErrors(base + minimalFeatures)
            let error = errors.first(at: path)
            #expect(error?.message.hasPrefix(message) == true, "\(path): got \(errors)")
        }
    }
}
