import Testing
@testable import SluiceMonitoring

private let key = AlertKey(model: "fraud", feature: "amount", test: .psi)
private let drifted = DriftTestResult(test: .psi, statistic: 0.15, pValue: nil, threshold: 0.1)
private let clear = DriftTestResult(test: .psi, statistic: 0.02, pValue: nil, threshold: 0.1)

@Suite struct AlertPolicyTests {
    @Test func firesAfterConsecutiveDriftAndResolvesAfterConsecutiveClear() {
        var policy = AlertPolicy(consecutive: 3, cooldown: 600)
        #expect(policy.observe(key, result: drifted, at: 0) == nil)
        #expect(policy.observe(key, result: drifted, at: 10) == nil)
        #expect(policy.observe(key, result: drifted, at: 20) == .fire(key: key, severity: .minor, result: drifted, time: 20))
        #expect(policy.isFiring(key))
        #expect(policy.observe(key, result: drifted, at: 30) == nil, "no duplicate fire while firing")
        #expect(policy.observe(key, result: clear, at: 40) == nil)
        #expect(policy.observe(key, result: clear, at: 50) == nil)
        #expect(policy.observe(key, result: clear, at: 60) == .resolve(key: key, result: clear, time: 60))
        #expect(!policy.isFiring(key))
    }

    @Test func interruptedStreaksDoNotFire() {
        var policy = AlertPolicy(consecutive: 3)
        for (i, r) in [drifted, drifted, clear, drifted, drifted, clear].enumerated() {
            #expect(policy.observe(key, result: r, at: Double(i)) == nil)
        }
        #expect(!policy.isFiring(key))
    }

    @Test func cooldownSuppressesRefireUntilItEnds() {
        var policy = AlertPolicy(consecutive: 1, cooldown: 100)
        #expect(policy.observe(key, result: drifted, at: 0) != nil)
        #expect(policy.observe(key, result: clear, at: 10) != nil)  // resolves
        #expect(policy.observe(key, result: drifted, at: 20) == nil, "within cooldown")
        #expect(policy.observe(key, result: drifted, at: 99) == nil, "within cooldown")
        guard case .fire(_, _, _, let t)? = policy.observe(key, result: drifted, at: 100) else {
            Issue.record("expected a fire once the cooldown ended")
            return
        }
        #expect(t == 100)
    }

    @Test func keysAreIndependent() {
        var policy = AlertPolicy(consecutive: 2)
        let other = AlertKey(model: "fraud", feature: "country", test: .jensenShannon)
        #expect(policy.observe(key, result: drifted, at: 0) == nil)
        #expect(policy.observe(other, result: drifted, at: 0) == nil)
        #expect(policy.observe(key, result: drifted, at: 1) != nil)
        #expect(!policy.isFiring(other))
    }

    @Test func severityGrowsWithDistancePastTheThreshold() {
        #expect(AlertSeverity.of(DriftTestResult(test: .psi, statistic: 0.15, pValue: nil, threshold: 0.1)) == .minor)
        #expect(AlertSeverity.of(DriftTestResult(test: .psi, statistic: 0.2, pValue: nil, threshold: 0.1)) == .major)
        #expect(AlertSeverity.of(DriftTestResult(test: .wasserstein, statistic: 0.45, pValue: nil, threshold: 0.1)) == .critical)
        #expect(AlertSeverity.of(DriftTestResult(test: .kolmogorovSmirnov, statistic: 0.2, pValue: 0.01, threshold: 0.05)) == .minor)
        #expect(AlertSeverity.of(DriftTestResult(test: .chiSquare, statistic: 20, pValue: 0.001, threshold: 0.05)) == .major)
        #expect(AlertSeverity.of(DriftTestResult(test: .zTest, statistic: 9, pValue: 1e-9, threshold: 0.05)) == .critical)
    }

    @Test func fireCarriesTheWorstSeverityOfTheStreak() {
        var policy = AlertPolicy(consecutive: 3)
        let severe = DriftTestResult(test: .psi, statistic: 0.5, pValue: nil, threshold: 0.1)
        _ = policy.observe(key, result: drifted, at: 0)
        _ = policy.observe(key, result: severe, at: 1)
        guard case .fire(_, let severity, _, _)? = policy.observe(key, result: drifted, at: 2) else {
            Issue.record("expected a fire")
            return
        }
        #expect(severity == .critical)
    }

    @Test func evaluationsFeedEveryFeature() {
        var policy = AlertPolicy(consecutive: 1)
        let eval = WindowEvaluation(
            features: [FeatureDriftResult(feature: "a", result: drifted, events: 10), FeatureDriftResult(feature: "b", result: clear, events: 10)],
            driftedFeatures: 1, datasetDrifted: true, events: 10, start: 0, end: 10)
        let actions = policy.observe(eval, model: "m", at: 5)
        #expect(actions == [.fire(key: AlertKey(model: "m", feature: "a", test: .psi), severity: .minor, result: drifted, time: 5)])
    }
}
