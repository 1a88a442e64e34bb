import SluiceConfiguration
import SluiceMonitoring

extension DriftConfig {
    /// The ``DriftConfiguration`` the monitor evaluates with under these settings: `dataset_share` and `overrides`
    /// (everything else at its default). A thin adapter over
    /// `DriftConfiguration(datasetShare:overrides:)` in SluiceMonitoring, which the worker can call the same way.
    /// - Throws: `DriftConfigurationError` for a share outside (0, 1] (a loaded configuration has valid test names
    ///   and thresholds).
    func monitoringConfiguration() throws -> DriftConfiguration {
        try DriftConfiguration(datasetShare: datasetShare, overrides: overrides.mapValues { ($0.test.rawValue, $0.threshold) })
    }
}
