import Foundation
import Testing
@testable import SluiceMonitoring

@Suite struct ExactDriftTests {
    @Test func exactDriftPicksEvidentlysTestAndMatchesTheDirectFunctions() {
        var rng = SplitMix64(seed: 11)
        let ref = (0..<500).map { _ in rng.uniform() }
        let cur = (0..<400).map { _ in rng.uniform() + 0.2 }
        let r = ExactDrift.evaluate(feature: "x", reference: .numerical(ref), current: .numerical(cur))
        #expect(r == DriftStatistics.kolmogorovSmirnov(reference: ref, current: cur))
        #expect(r.drifted)
        let big = (0..<3000).map { _ in rng.uniform() }
        let w = ExactDrift.evaluate(feature: "x", reference: .numerical(big), current: .numerical(cur))
        #expect(w.test == .wasserstein && w.drifted)
    }

    @Test func categoricalColumnsUseChiSquareOrZ() {
        let ref: [String?] = Array(repeating: "a", count: 300) + Array(repeating: "b", count: 200) + Array(repeating: "c", count: 100)
        let cur: [String?] = Array(repeating: "a", count: 100) + Array(repeating: "b", count: 200) + Array(repeating: "c", count: 300) + [nil]
        let r = ExactDrift.evaluate(feature: "c", reference: .categorical(ref), current: .categorical(cur))
        #expect(r.test == .chiSquare && r.drifted)
        #expect(r == DriftStatistics.chiSquare(referenceCounts: [300, 200, 100], currentCounts: [100, 200, 300]))
        let two: [String?] = Array(repeating: "x", count: 300) + Array(repeating: "y", count: 300)
        let z = ExactDrift.evaluate(feature: "c", reference: .categorical(two), current: .categorical(two))
        #expect(z.test == .zTest && !z.drifted)
    }
}
