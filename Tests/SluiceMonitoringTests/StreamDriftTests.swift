import Testing
@testable import SluiceMonitoring

/// A 4-feature event source: three numerical (sum of two uniforms, std √(1/6)·scale) and one categorical.
private struct EventSource {
    var rng: SplitMix64
    let scales: [Double] = [1, 10, 0.01]
    static let categories = ["visa", "mastercard", "amex", "paypal", "other"]

    mutating func numbers(shift: Double) -> (Double, Double, Double, String) {
        var v: [Double] = []
        for s in scales { v.append((rng.uniform() + rng.uniform()) * s) }
        let u = rng.uniform()
        let c = u < 0.4 ? 0 : (u < 0.7 ? 1 : (u < 0.85 ? 2 : (u < 0.97 ? 3 : 4)))
        return (v[0] + shift, v[1], v[2], Self.categories[c])
    }
}

@Suite struct StreamDriftTests {
    static let std = (1.0 / 6.0).squareRoot()

    private func makeWindow(source: inout EventSource) throws -> SlidingWindow {
        var a: [Double] = [], b: [Double] = [], c: [Double] = [], d: [String?] = []
        for _ in 0..<5000 {
            let e = source.numbers(shift: 0)
            a.append(e.0); b.append(e.1); c.append(e.2); d.append(e.3)
        }
        let profile = ReferenceProfile(source: "reference", features: [
            FeatureProfile.numerical(name: "a", values: a),
            FeatureProfile.numerical(name: "b", values: b),
            FeatureProfile.numerical(name: "c", values: c),
            FeatureProfile.categorical(name: "d", values: d),
        ])
        return try SlidingWindow(profile: profile, policy: .count(events: 100_000, subwindows: 20))
    }

    @Test func stationaryMillionEventsNeverDriftAndAOneStdShiftIsCaughtByHalfWindow() throws {
        var source = EventSource(rng: SplitMix64(seed: 2024))
        var window = try makeWindow(source: &source)
        #expect(window.evaluate().features.map(\.result.test) == [.wasserstein, .wasserstein, .wasserstein, .jensenShannon])
        var buffer = [Double](repeating: 0, count: 4)
        var evaluations = 0
        var falsePositives = 0
        var worst = 0.0
        for _ in 0..<1_000_000 {
            let e = source.numbers(shift: 0)
            buffer[0] = e.0; buffer[1] = e.1; buffer[2] = e.2
            buffer[3] = window.categoryCode(feature: 3, e.3)
            if window.add(buffer) {
                let eval = window.evaluate()
                evaluations += 1
                falsePositives += eval.driftedFeatures
                for f in eval.features { worst = max(worst, f.result.statistic / f.result.threshold) }
            }
        }
        #expect(evaluations == 200)
        #expect(falsePositives == 0, "stationary stream drifted \(falsePositives) times (worst statistic/threshold \(worst))")

        // Shift feature a by one standard deviation; shifted events fill half the window after 50,000.
        var detectedAfter: Int? = nil
        for i in 1...60_000 {
            let e = source.numbers(shift: Self.std)
            buffer[0] = e.0; buffer[1] = e.1; buffer[2] = e.2
            buffer[3] = window.categoryCode(feature: 3, e.3)
            if window.add(buffer) {
                let eval = window.evaluate()
                #expect(eval.features[1...].allSatisfy { !$0.result.drifted }, "unshifted features stay quiet")
                if detectedAfter == nil && eval.features[0].result.drifted { detectedAfter = i }
            }
        }
        let at = try #require(detectedAfter, "a one-std shift must be detected")
        #expect(at <= 50_000 + 5_000, "detected after \(at) shifted events")
    }
}
