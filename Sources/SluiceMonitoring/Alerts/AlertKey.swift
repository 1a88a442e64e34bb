/// Identifies one alert stream: a model, optionally a feature, and a test.
package struct AlertKey: Hashable, Sendable, Codable {
    package var model: String
    package var feature: String?
    package var test: DriftTest

    package init(model: String, feature: String?, test: DriftTest) {
        self.model = model
        self.feature = feature
        self.test = test
    }
}
