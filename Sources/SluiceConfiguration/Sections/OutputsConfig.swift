/// `outputs:` — the topics Sluice produces to.
package struct OutputsConfig: Hashable, Sendable {
    /// `predictions_topic`.
    package var predictionsTopic: String = "predictions"
    /// `alerts_topic`.
    package var alertsTopic: String = "drift-alerts"
    /// `retrain_topic`.
    package var retrainTopic: String = "retrain-requests"
    /// `labels_topic`: the topic Sluice reads labels from.
    package var labelsTopic: String = "labels"

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> OutputsConfig {
        var c = OutputsConfig()
        c.predictionsTopic = m.value("predictions_topic", default: c.predictionsTopic, .topic)
        c.alertsTopic = m.value("alerts_topic", default: c.alertsTopic, .topic)
        c.retrainTopic = m.value("retrain_topic", default: c.retrainTopic, .topic)
        c.labelsTopic = m.value("labels_topic", default: c.labelsTopic, .topic)
        return c
    }
}
