/// A loaded configuration together with the warnings the load produced.
package struct ConfigLoadResult: Sendable {
    /// The validated configuration.
    package var config: SluiceConfig
    /// Non-fatal findings (unknown `SLUICE_*` variables); log them at start-up.
    package var warnings: [ConfigWarning]
    /// The `SLUICE_*` variables that set a value, sorted (names only: values may be secrets).
    package var appliedVariables: [String]

    /// Creates a result.
    package init(config: SluiceConfig, warnings: [ConfigWarning], appliedVariables: [String] = []) {
        self.config = config
        self.warnings = warnings
        self.appliedVariables = appliedVariables
    }
}
