import Foundation
import Testing
@testable import SluiceMonitoring

/// Recomputes a window from scratch: histograms over the given events, tested with the same code.
private func evaluateFromScratch(profile: ReferenceProfile, events: [[Double]], configuration: DriftConfiguration) -> [DriftTestResult] {
    profile.features.enumerated().map { f, feature in
        var counts = [Double](repeating: 0, count: feature.binCount)
        var sums = [Double](repeating: 0, count: feature.binCount)
        for e in events {
            let v = e[f]
            if !v.isFinite { continue }
            let b = feature.kind == .categorical ? Int(v) : feature.bin(of: v)
            counts[b] += 1
            sums[b] += v
        }
        let choice = configuration.resolve(feature: feature.name, referenceSize: feature.count, kind: feature.kind, uniqueCount: feature.uniqueCount)
        return counts.withUnsafeBufferPointer { c in
            sums.withUnsafeBufferPointer { s in
                BinnedDriftTests.run(test: choice.test, threshold: choice.threshold, profile: feature, counts: c, sums: s, configuration: configuration)
            }
        }
    }
}

private func sameResult(_ a: DriftTestResult, _ b: DriftTestResult) -> Bool {
    guard a.test == b.test, a.drifted == b.drifted else { return false }
    let statOK = FixtureSupport.relativelyClose(a.statistic, b.statistic, 1e-9) || abs(a.statistic - b.statistic) < 1e-12
    let pOK: Bool
    switch (a.pValue, b.pValue) {
    case (nil, nil): pOK = true
    case let (x?, y?): pOK = abs(x - y) <= 1e-12
    default: pOK = false
    }
    return statOK && pOK
}

private func mixedProfile(rng: inout SplitMix64, referenceSize: Int) -> ReferenceProfile {
    var cont: [Double] = [], disc: [Double] = [], cat: [String?] = []
    for _ in 0..<referenceSize {
        cont.append(rng.uniform() + rng.uniform() + rng.uniform())
        disc.append(Double(Int(rng.uniform() * 4)))
        let u = rng.uniform()
        cat.append(u < 0.05 ? nil : (u < 0.5 ? "a" : (u < 0.8 ? "b" : (u < 0.95 ? "c" : "d"))))
    }
    return ReferenceProfile(source: "test", features: [
        FeatureProfile.numerical(name: "cont", values: cont, bins: 50),
        FeatureProfile.numerical(name: "disc", values: disc),
        FeatureProfile.categorical(name: "cat", values: cat, maxCategories: 3),
    ])
}

private func randomEvent(rng: inout SplitMix64, window: SlidingWindow, shift: Double) -> [Double] {
    let u = rng.uniform()
    let cont = u < 0.02 ? Double.nan : rng.uniform() + rng.uniform() + rng.uniform() + shift
    let disc = Double(Int(rng.uniform() * (4 + shift)))
    let c = rng.uniform()
    let name: String? = c < 0.03 ? nil : (c < 0.45 ? "a" : (c < 0.75 ? "b" : (c < 0.9 ? "c" : (c < 0.97 ? "d" : "new"))))
    return [cont, disc, window.categoryCode(feature: 2, name)]
}

@Suite struct SlidingWindowTests {
    @Test(arguments: [DriftTest.kolmogorovSmirnov, .chiSquare, .zTest, .wasserstein, .jensenShannon, .psi])
    func countWindowEqualsRecomputingOnTheLastNEvents(test: DriftTest) throws {
        var rng = SplitMix64(seed: 4242 &+ UInt64(test.rawValue.count))
        let profile = mixedProfile(rng: &rng, referenceSize: 3000)
        var config = DriftConfiguration()
        for name in ["cont", "disc", "cat"] { config.overrides[name] = FeatureDriftOverride(test: test) }
        var window = try SlidingWindow(profile: profile, policy: .count(events: 1000, subwindows: 10))
        var history: [[Double]] = []
        var evaluations = 0
        for i in 0..<6000 {
            let shift = i < 3000 ? 0 : Double(i - 3000) / 3000
            let e = randomEvent(rng: &rng, window: window, shift: shift)
            history.append(e)
            if window.add(e) {
                let eval = window.evaluate(configuration: config)
                let last = Array(history.suffix(1000))
                #expect(eval.events == min(history.count, 1000))
                let expected = evaluateFromScratch(profile: profile, events: last, configuration: config)
                for (got, want) in zip(eval.features, expected) {
                    #expect(sameResult(got.result, want), "\(test) event \(i) feature \(got.feature): \(got.result) vs \(want)")
                }
                evaluations += 1
            }
        }
        #expect(evaluations == 60)
    }

    @Test func defaultRuleUsesEvidentlySelectionPerFeature() throws {
        var rng = SplitMix64(seed: 9)
        let small = mixedProfile(rng: &rng, referenceSize: 800)
        var window = try SlidingWindow(profile: small, policy: .count(events: 100, subwindows: 4))
        for _ in 0..<100 { window.add(randomEvent(rng: &rng, window: window, shift: 0)) }
        let tests = window.evaluate().features.map(\.result.test)
        #expect(tests == [.kolmogorovSmirnov, .chiSquare, .chiSquare])
        let large = mixedProfile(rng: &rng, referenceSize: 2000)
        var window2 = try SlidingWindow(profile: large, policy: .count(events: 100, subwindows: 4))
        for _ in 0..<100 { window2.add(randomEvent(rng: &rng, window: window2, shift: 0)) }
        #expect(window2.evaluate().features.map(\.result.test) == [.wasserstein, .jensenShannon, .jensenShannon])
    }

    @Test func timeWindowHoldsTheLastClosedSubwindowsAndDropsLateEvents() throws {
        var rng = SplitMix64(seed: 77)
        let profile = mixedProfile(rng: &rng, referenceSize: 2000)
        var window = try SlidingWindow(profile: profile, policy: .time(seconds: 60, subwindows: 6))
        var history: [(Double, [Double])] = []
        var time = 1000.0
        var late = 0
        var evaluations = 0
        for _ in 0..<5000 {
            time += rng.uniform() * 0.2
            // occasionally an out-of-order event, sometimes older than the window
            var t = time
            let r = rng.uniform()
            if r < 0.05 { t = time - rng.uniform() * 15 }
            if r < 0.01 { t = time - 90; late += 1 }
            let e = randomEvent(rng: &rng, window: window, shift: 0)
            if window.add(e, eventTime: t) {
                evaluations += 1
                let openId = Int((time / 10).rounded(.down))
                let inWindow = history.filter { let id = Int(($0.0 / 10).rounded(.down)); return id >= openId - 6 && id < openId }.map(\.1)
                let eval = window.evaluate()
                #expect(eval.events == inWindow.count)
                let expected = evaluateFromScratch(profile: profile, events: inWindow, configuration: DriftConfiguration())
                for (got, want) in zip(eval.features, expected) {
                    #expect(sameResult(got.result, want), "\(got.feature)")
                }
            }
            history.append((t, e))
        }
        #expect(evaluations >= 40)
        #expect(window.droppedLate == late)
    }

    @Test func rejectsUnusablePolicies() {
        let profile = ReferenceProfile(source: "t", features: [FeatureProfile.numerical(name: "x", values: [1, 2, 3])])
        #expect(throws: WindowConfigurationError.self) { try SlidingWindow(profile: profile, policy: .count(events: 1001, subwindows: 10)) }
        #expect(throws: WindowConfigurationError.self) { try SlidingWindow(profile: profile, policy: .time(seconds: 0, subwindows: 10)) }
        #expect(throws: WindowConfigurationError.self) { try SlidingWindow(profile: profile, policy: .count(events: 100, subwindows: 0)) }
    }
}

private struct KSFile: Decodable {
    struct Case: Decodable { var name: String; var a: SampleSpec; var b: SampleSpec; var statistic: Double; var pvalue: Double }
    var cases: [Case]
}

private struct DistanceFile: Decodable {
    struct Numerical: Decodable { var name: String; var a: SampleSpec; var b: SampleSpec; var wasserstein_normed: Double }
    var numerical: [Numerical]
}

@Suite struct BinnedApproximationTests {
    /// With 200 reference-quantile bins the binned D is within 0.01 of scipy's exact D.
    @Test func binnedKSIsWithinOneHundredthOfScipyWith200QuantileBins() throws {
        let file = try FixtureSupport.load(KSFile.self, "ks.json")
        var checked = 0
        for c in file.cases {
            let a = try c.a.generateChecked(), b = try c.b.generateChecked()
            guard a.count > 201, b.count % 10 == 0 else { continue }
            let profile = ReferenceProfile(source: c.name, features: [FeatureProfile.numerical(name: "x", values: a, bins: 200, exactEdgeLimit: 0)])
            var config = DriftConfiguration()
            config.overrides["x"] = FeatureDriftOverride(test: .kolmogorovSmirnov)
            var window = try SlidingWindow(profile: profile, policy: .count(events: b.count, subwindows: 10))
            for x in b { window.add([x]) }
            let r = window.evaluate(configuration: config).features[0].result
            #expect(abs(r.statistic - c.statistic) <= 0.01, "\(c.name): binned \(r.statistic) vs exact \(c.statistic)")
            #expect(r.statistic <= c.statistic + 1e-12, "binned D never exceeds the exact D")
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test func binnedKSIsExactWhenEveryReferenceValueIsAnEdge() throws {
        let file = try FixtureSupport.load(KSFile.self, "ks.json")
        let c = try #require(file.cases.first { $0.name == "exact_1000_2000" })
        let a = try c.a.generateChecked(), b = try c.b.generateChecked()
        let profile = ReferenceProfile(source: c.name, features: [FeatureProfile.numerical(name: "x", values: a)])
        var window = try SlidingWindow(profile: profile, policy: .count(events: 2000, subwindows: 10))
        for x in b { window.add([x]) }
        let r = window.evaluate().features[0].result
        #expect(r.test == .kolmogorovSmirnov)
        #expect(FixtureSupport.relativelyClose(r.statistic, c.statistic, 1e-9))
        #expect(abs((r.pValue ?? -1) - c.pvalue) <= 1e-6)
    }

    @Test func binnedWassersteinIsWithinTwoPercentOfScipy() throws {
        let file = try FixtureSupport.load(DistanceFile.self, "distances.json")
        for c in file.numerical {
            let a = try c.a.generateChecked(), b = try c.b.generateChecked()
            let profile = ReferenceProfile(source: c.name, features: [FeatureProfile.numerical(name: "x", values: a, bins: 200, exactEdgeLimit: 0)])
            var config = DriftConfiguration()
            config.overrides["x"] = FeatureDriftOverride(test: .wasserstein)
            var window = try SlidingWindow(profile: profile, policy: .count(events: b.count, subwindows: 1))
            for x in b { window.add([x]) }
            let r = window.evaluate(configuration: config).features[0].result
            #expect(abs(r.statistic - c.wasserstein_normed) <= 0.02 * c.wasserstein_normed + 0.002, "\(c.name): \(r.statistic) vs \(c.wasserstein_normed)")
        }
    }
}

@Suite struct WindowBinningTests {
    /// The window's guide-table lookup must agree with the profile's binary search everywhere,
    /// including values equal to edges, outside the range, infinities and skewed data.
    @Test func windowBinsAgreeWithProfileBinsOnAwkwardValues() throws {
        var rng = SplitMix64(seed: 31)
        let skewed = (0..<20_000).map { _ in -log(1 - rng.uniform()) * 3 }
        let rounded = (0..<3_000).map { _ in (rng.uniform() * 50).rounded(.down) / 2 }
        let profile = ReferenceProfile(source: "t", features: [
            FeatureProfile.numerical(name: "skewed", values: skewed, bins: 200),
            FeatureProfile.numerical(name: "rounded", values: rounded, bins: 200),
            FeatureProfile.numerical(name: "small", values: Array(skewed.prefix(900))),
            FeatureProfile.numerical(name: "discrete", values: [1, 2, 2, 3]),
            FeatureProfile.numerical(name: "constant", values: [7, 7, 7]),
            FeatureProfile.categorical(name: "cat", values: ["a", "b"]),
        ])
        var window = try SlidingWindow(profile: profile, policy: .count(events: 5000, subwindows: 1))
        var expected = profile.features.map { [Double](repeating: 0, count: $0.binCount) }
        for _ in 0..<5000 {
            var row: [Double] = []
            for f in profile.features.indices where f < 5 {
                let p = profile.features[f]
                let u = rng.uniform()
                let v: Double
                if u < 0.3, !p.edges.isEmpty {
                    v = p.edges[Int(rng.uniform() * Double(p.edges.count))]
                } else if u < 0.32 {
                    v = rng.uniform() < 0.5 ? -.infinity : .infinity
                } else if u < 0.4 {
                    v = (rng.uniform() - 0.5) * 1e6
                } else {
                    v = p.kind == .numerical && f == 0 ? -log(1 - rng.uniform()) * 3 : rng.uniform() * 30
                }
                row.append(v)
                if v.isFinite { expected[f][p.bin(of: v)] += 1 }
            }
            let code = rng.uniform() < 0.5 ? window.categoryCode(feature: 5, "a") : (rng.uniform() < 0.5 ? 1e9 : -3)
            expected[5][code == 0 ? 0 : 2] += 1
            row.append(code)
            window.add(row)
        }
        for f in profile.features.indices {
            #expect(window.histogram(feature: f) == expected[f], "\(profile.features[f].name)")
        }
    }
}

@Suite struct WindowRobustnessTests {
    @Test func unusableEventTimesAreCountedNotFatal() throws {
        let profile = ReferenceProfile(source: "t", features: [FeatureProfile.numerical(name: "x", values: [1, 2, 3, 4, 5, 6, 7])])
        var window = try SlidingWindow(profile: profile, policy: .time(seconds: 10, subwindows: 2))
        window.add([1], eventTime: 100)
        let dueNaN = window.add([1], eventTime: .nan)
        let dueInfinity = window.add([1], eventTime: .infinity)
        let dueHuge = window.add([1], eventTime: 1e300)
        #expect(!dueNaN && !dueInfinity && !dueHuge)
        #expect(window.droppedInvalidTime == 3)
        let advanced = window.advance(to: 130)
        #expect(advanced)
        let events = window.evaluate().events
        #expect(events == 0, "the only event is older than the window now")
    }

    @Test func detectorsIgnoreNonFiniteInput() {
        var adwin = ADWIN()
        var ph = PageHinkley()
        for i in 0..<100 {
            adwin.update(Double(i % 2))
            ph.update(Double(i % 2))
        }
        let width = adwin.width
        let adwinDrift = adwin.update(.nan), phDrift = ph.update(.infinity)
        #expect(!adwinDrift && !phDrift)
        #expect(adwin.width == width)
        #expect(adwin.estimation.isFinite)
    }
}
