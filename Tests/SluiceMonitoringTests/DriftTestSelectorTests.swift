import Foundation
import Testing
@testable import SluiceMonitoring

@Suite struct DriftTestSelectorTests {
    @Test func smallReferencesUseHypothesisTests() {
        #expect(DriftTestSelector.select(referenceSize: 1000, kind: .numerical, uniqueCount: 6) == .kolmogorovSmirnov)
        #expect(DriftTestSelector.select(referenceSize: 50, kind: .numerical, uniqueCount: 5) == .chiSquare)
        #expect(DriftTestSelector.select(referenceSize: 50, kind: .numerical, uniqueCount: 2) == .zTest)
        #expect(DriftTestSelector.select(referenceSize: 1000, kind: .categorical, uniqueCount: 40) == .chiSquare)
        #expect(DriftTestSelector.select(referenceSize: 1000, kind: .categorical, uniqueCount: 2) == .zTest)
    }

    @Test func largeReferencesUseDistances() {
        #expect(DriftTestSelector.select(referenceSize: 1001, kind: .numerical, uniqueCount: 6) == .wasserstein)
        #expect(DriftTestSelector.select(referenceSize: 1001, kind: .numerical, uniqueCount: 5) == .jensenShannon)
        #expect(DriftTestSelector.select(referenceSize: 100_000, kind: .categorical, uniqueCount: 2) == .jensenShannon)
    }

    @Test func overridesReplaceTestAndThreshold() throws {
        var config = DriftConfiguration()
        config.overrides["amount"] = FeatureDriftOverride(test: .psi, threshold: 0.2)
        config.overrides["country"] = FeatureDriftOverride(threshold: 0.01)
        let a = config.resolve(feature: "amount", referenceSize: 500, kind: .numerical, uniqueCount: 400)
        #expect(a.test == .psi && a.threshold == 0.2)
        let c = config.resolve(feature: "country", referenceSize: 500, kind: .categorical, uniqueCount: 30)
        #expect(c.test == .chiSquare && c.threshold == 0.01)
        let other = config.resolve(feature: "merchant", referenceSize: 5000, kind: .categorical, uniqueCount: 30)
        #expect(other.test == .jensenShannon && other.threshold == 0.1)
    }

    @Test func validationNamesTheFeatureAndWhatWasExpected() {
        let profile = ReferenceProfile(source: "t", features: [
            FeatureProfile.categorical(name: "country", values: ["a", "b"]),
            FeatureProfile.numerical(name: "amount", values: [1, 2, 3]),
        ])
        var config = DriftConfiguration()
        config.overrides["country"] = FeatureDriftOverride(test: .kolmogorovSmirnov)
        #expect(throws: DriftConfigurationError.self) { try config.validate(profile: profile) }
        do {
            try config.validate(profile: profile)
        } catch {
            #expect("\(error)".contains("country"))
        }
        config.overrides = ["nope": FeatureDriftOverride(threshold: 0.1)]
        #expect(throws: DriftConfigurationError.self) { try config.validate(profile: profile) }
        config.overrides = ["amount": FeatureDriftOverride(test: .wasserstein, threshold: -1)]
        #expect(throws: DriftConfigurationError.self) { try config.validate(profile: profile) }
        config.overrides = ["amount": FeatureDriftOverride(test: .wasserstein, threshold: 0.3)]
        #expect(throws: Never.self) { try config.validate(profile: profile) }
    }

    @Test func datasetDriftIsShareOfDriftedFeatures() {
        let config = DriftConfiguration()
        #expect(config.datasetDrifted(driftedFeatures: 5, totalFeatures: 10))
        #expect(!config.datasetDrifted(driftedFeatures: 4, totalFeatures: 10))
        #expect(!config.datasetDrifted(driftedFeatures: 0, totalFeatures: 0))
        let strict = DriftConfiguration(driftShare: 0.3)
        #expect(strict.datasetDrifted(driftedFeatures: 3, totalFeatures: 10))
    }

    @Test func decisionRulesFollowEvidentlyComparisons() {
        #expect(DriftTestResult(test: .kolmogorovSmirnov, statistic: 0.1, pValue: 0.05, threshold: 0.05).drifted)
        #expect(!DriftTestResult(test: .chiSquare, statistic: 3, pValue: 0.05, threshold: 0.05).drifted)
        #expect(!DriftTestResult(test: .zTest, statistic: 2, pValue: 0.05, threshold: 0.05).drifted)
        #expect(DriftTestResult(test: .psi, statistic: 0.1, pValue: nil, threshold: 0.1).drifted)
        #expect(!DriftTestResult(test: .wasserstein, statistic: 0.0999, pValue: nil, threshold: 0.1).drifted)
    }
}
