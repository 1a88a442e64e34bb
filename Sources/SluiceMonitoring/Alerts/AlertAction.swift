/// What the alert policy decided for one observation.
package enum AlertAction: Sendable, Equatable {
    /// Start an alert: drift persisted for `consecutive` evaluations.
    case fire(key: AlertKey, severity: AlertSeverity, result: DriftTestResult, time: Double)
    /// End an alert: the evaluation was clear for `consecutive` evaluations.
    case resolve(key: AlertKey, result: DriftTestResult, time: Double)
}
