extension DriftConfiguration {
    /// The configuration the monitor evaluates with, from the `drift:` settings of the worker configuration:
    /// `dataset_share` and the per-feature `overrides` (test named as in the configuration, see
    /// ``DriftTest/init(configurationName:)``, and its threshold). Everything else keeps its default.
    ///
    /// Takes plain values so this module needs no configuration module; from a `SluiceConfig` call it as
    /// `DriftConfiguration(datasetShare: config.drift.datasetShare,
    /// overrides: config.drift.overrides.mapValues { ($0.test.rawValue, $0.threshold) })`.
    /// - Throws: ``DriftConfigurationError`` naming the feature when a test name is unknown, a threshold is not
    ///   positive and finite, or the share is outside (0, 1]. Which features exist is checked later, against a
    ///   profile, by ``validate(profile:)``.
    package init(datasetShare: Double, overrides: [String: (test: String, threshold: Double)]) throws {
        var converted: [String: FeatureDriftOverride] = [:]
        for (feature, override) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let test = DriftTest(configurationName: override.test) else {
                let known = DriftTest.allCases.map(\.configurationName).joined(separator: ", ")
                throw DriftConfigurationError(message: "drift override for feature '\(feature)' names test '\(override.test)'; expected one of \(known)")
            }
            guard override.threshold > 0, override.threshold.isFinite else {
                throw DriftConfigurationError(message: "drift threshold for feature '\(feature)' is \(override.threshold); expected a positive, finite number")
            }
            converted[feature] = FeatureDriftOverride(test: test, threshold: override.threshold)
        }
        guard datasetShare > 0, datasetShare <= 1 else {
            throw DriftConfigurationError(message: "drift dataset share is \(datasetShare); expected a number in (0, 1]")
        }
        self.init(overrides: converted, driftShare: datasetShare)
    }
}
