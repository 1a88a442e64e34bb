import Testing
@testable import SluiceMonitoring

@Suite struct SmallReferenceChiSquareTests {
    /// Evidently's goodness-of-fit chi-square treats a 1,000-row reference's shares as
    /// exact, so a 20,000-event window from the same distribution usually "drifts";
    /// the homogeneity mode accounts for the reference's noise.
    @Test func homogeneityModeKeepsFalsePositivesNearTheLevel() throws {
        var rng = SplitMix64(seed: 5)
        var goodnessDrifts = 0, homogeneityDrifts = 0
        let trials = 40
        for _ in 0..<trials {
            let cats: [String?] = (0..<1000).map { _ in "c\(Int(rng.uniform() * rng.uniform() * 20))" }
            let profile = ReferenceProfile(source: "x", features: [FeatureProfile.categorical(name: "b", values: cats)])
            var w = try SlidingWindow(profile: profile, policy: .count(events: 20000, subwindows: 4))
            for _ in 0..<20000 { w.add([w.categoryCode(feature: 0, "c\(Int(rng.uniform() * rng.uniform() * 20))")]) }
            if w.evaluate().features[0].result.drifted { goodnessDrifts += 1 }
            if w.evaluate(configuration: DriftConfiguration(chiSquareMode: .homogeneity)).features[0].result.drifted { homogeneityDrifts += 1 }
        }
        #expect(goodnessDrifts > trials / 2, "Evidently's formula is expected to over-flag here")
        #expect(homogeneityDrifts <= 6, "homogeneity false positives: \(homogeneityDrifts) of \(trials)")
    }
}
