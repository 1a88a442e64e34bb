/// `labels:` — joining labels to logged predictions.
package struct LabelsConfig: Hashable, Sendable {
    /// `enabled`: consume `outputs.labels_topic` and join labels to logged predictions.
    package var enabled: Bool = true
    /// `horizon`: how long after a prediction its label is still accepted.
    package var horizon: Duration = .seconds(7 * 86_400)
    /// `retry.attempts`: tries for a label whose prediction is not logged yet.
    package var retryAttempts: Int = 5
    /// `retry.backoff`: wait between tries.
    package var retryBackoff: Duration = .seconds(10)

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> LabelsConfig {
        var c = LabelsConfig()
        c.enabled = m.value("enabled", default: c.enabled, .bool)
        c.horizon = m.value("horizon", default: c.horizon, .duration(.seconds(1)...Duration.seconds(365 * 86_400)))
        let retry = m.section("retry")
        c.retryAttempts = retry.value("attempts", default: c.retryAttempts, .integer(0...1000))
        c.retryBackoff = retry.value("backoff", default: c.retryBackoff, .positiveDuration)
        retry.finish()
        return c
    }
}
