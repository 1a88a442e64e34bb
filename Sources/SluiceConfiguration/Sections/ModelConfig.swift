/// `model:` — which registered model scores events and how.
package struct ModelConfig: Hashable, Sendable {
    /// `name`: the registry name whose production version scores events.
    package var name: String = "default"
    /// `explain_top_k`: feature contributions per prediction (0 = no explanations).
    package var explainTopK: Int = 0
    /// `refresh_interval`: registry poll period, a fallback to LISTEN/NOTIFY.
    package var refreshInterval: Duration = .seconds(30)
    /// `shadow`: also score with the staging model as challenger.
    package var shadow: Bool = false

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> ModelConfig {
        var c = ModelConfig()
        c.name = m.value("name", default: c.name, .nonEmptyString)
        c.explainTopK = m.value("explain_top_k", default: c.explainTopK, .integer(0...50))
        c.refreshInterval = m.value("refresh_interval", default: c.refreshInterval, .duration(.seconds(1)...Duration.seconds(86_400)))
        c.shadow = m.value("shadow", default: c.shadow, .bool)
        return c
    }
}
