/// `model:` — which registered model scores events and how.
package struct ModelConfig: Hashable, Sendable {
    /// How contributions are computed when `explain_top_k` > 0.
    package enum ExplainMethod: String, CaseIterable, Hashable, Sendable {
        /// Exact path-dependent TreeSHAP (XGBoost's `pred_contribs`, LightGBM's `pred_contrib`); w·x for linear models.
        case treeshap
        /// Path attribution along each tree's decision path (XGBoost's `approx_contribs`): hundreds of times cheaper.
        case path
    }

    /// `name`: the registry name whose production version scores events.
    package var name: String = "default"
    /// `explain_top_k`: feature contributions per prediction (0 = no explanations).
    package var explainTopK: Int = 0
    /// `explain_method`: `treeshap` (exact) or `path` (fast approximation).
    package var explainMethod: ExplainMethod = .treeshap
    /// `refresh_interval`: registry poll period, a fallback to LISTEN/NOTIFY.
    package var refreshInterval: Duration = .seconds(30)
    /// `shadow`: also score with the model's `shadow` version, as the challenger in each prediction.
    package var shadow: Bool = false

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> ModelConfig {
        var c = ModelConfig()
        c.name = m.value("name", default: c.name, .nonEmptyString)
        c.explainTopK = m.value("explain_top_k", default: c.explainTopK, .integer(0...50))
        c.explainMethod = m.value("explain_method", default: c.explainMethod, .oneOf(ExplainMethod.self))
        c.refreshInterval = m.value("refresh_interval", default: c.refreshInterval, .duration(.seconds(1)...Duration.seconds(86_400)))
        c.shadow = m.value("shadow", default: c.shadow, .bool)
        return c
    }
}
