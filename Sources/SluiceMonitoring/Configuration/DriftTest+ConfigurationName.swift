extension DriftTest {
    /// The test's name in the `drift.overrides` configuration: `ks`, `chisquare`, `ztest`, `wasserstein`,
    /// `jensenshannon` or `psi` (the raw value, except `ztest` for the Z-test).
    package var configurationName: String {
        self == .zTest ? "ztest" : rawValue
    }

    /// The test named as in the `drift.overrides` configuration; the raw value `z` is accepted too.
    /// Returns nil for any other name.
    package init?(configurationName: String) {
        if configurationName == "ztest" {
            self = .zTest
        } else {
            self.init(rawValue: configurationName)
        }
    }
}
