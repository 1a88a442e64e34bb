import Foundation
import Testing
@testable import SluiceMonitoring

private struct KSFile: Decodable {
    struct Case: Decodable { var name: String; var a: SampleSpec; var b: SampleSpec; var statistic: Double; var pvalue: Double }
    struct SF: Decodable { var n: Int; var x: Double; var sf: Double }
    var cases: [Case]
    var kstwo_sf: [SF]
}

private struct ChiFile: Decodable {
    struct Case: Decodable {
        var name: String; var reference: [Double]; var current: [Double]; var statistic: Double; var pvalue: Double
        var homogeneity_statistic: Double; var homogeneity_pvalue: Double
    }
    struct SF: Decodable { var df: Double; var x: Double; var sf: Double }
    struct Z: Decodable {
        var name: String; var reference_first: Double; var reference_n: Double
        var current_first: Double; var current_n: Double; var statistic: Double; var pvalue: Double
    }
    struct NormCDF: Decodable { var x: Double; var cdf: Double }
    var cases: [Case]
    var chi2_sf: [SF]
    var z_cases: [Z]
    var norm_cdf: [NormCDF]
}

private struct DistanceFile: Decodable {
    struct Numerical: Decodable {
        var name: String; var a: SampleSpec; var b: SampleSpec
        var wasserstein: Double; var wasserstein_normed: Double; var reference_std: Double
        var jensenshannon: Double; var psi: Double; var bins: Int
    }
    struct Categorical: Decodable { var name: String; var reference: [Double]; var current: [Double]; var jensenshannon: Double; var psi: Double }
    var numerical: [Numerical]
    var categorical: [Categorical]
}

@Suite struct KolmogorovSmirnovParityTests {
    @Test func statisticAndPValueMatchScipyKs2samp() throws {
        let file = try FixtureSupport.load(KSFile.self, "ks.json")
        #expect(file.cases.count >= 10)
        for c in file.cases {
            let a = try c.a.generateChecked(), b = try c.b.generateChecked()
            let r = DriftStatistics.kolmogorovSmirnov(reference: a, current: b)
            #expect(FixtureSupport.relativelyClose(r.statistic, c.statistic, 1e-9), "\(c.name): D \(r.statistic) vs \(c.statistic)")
            let p = try #require(r.pValue)
            #expect(abs(p - c.pvalue) <= 1e-6, "\(c.name): p \(p) vs \(c.pvalue)")
            #expect(r.drifted == (c.pvalue <= 0.05), "\(c.name)")
        }
    }

    @Test func kolmogorovDistributionMatchesScipyKstwoOnEveryBranch() throws {
        let file = try FixtureSupport.load(KSFile.self, "ks.json")
        for c in file.kstwo_sf {
            let sf = KolmogorovDistribution.survival(n: c.n, x: c.x)
            #expect(abs(sf - c.sf) <= 1e-9 || FixtureSupport.relativelyClose(sf, c.sf, 1e-7), "kstwo.sf(\(c.x), \(c.n)) = \(sf) vs \(c.sf)")
        }
    }
}

@Suite struct ChiSquareAndZParityTests {
    @Test func chiSquareMatchesScipyChisquareWithEvidentlyExpectations() throws {
        let file = try FixtureSupport.load(ChiFile.self, "chisquare.json")
        for c in file.cases {
            let r = DriftStatistics.chiSquare(referenceCounts: c.reference, currentCounts: c.current)
            #expect(FixtureSupport.relativelyClose(r.statistic, c.statistic, 1e-9), "\(c.name): \(r.statistic) vs \(c.statistic)")
            let p = try #require(r.pValue)
            #expect(abs(p - c.pvalue) <= 1e-6, "\(c.name)")
            #expect(FixtureSupport.relativelyClose(p, c.pvalue, 1e-9) || c.pvalue < 1e-300, "\(c.name): p \(p) vs \(c.pvalue)")
        }
    }

    @Test func homogeneityChiSquareMatchesScipyChi2Contingency() throws {
        let file = try FixtureSupport.load(ChiFile.self, "chisquare.json")
        for c in file.cases {
            let r = DriftStatistics.chiSquareHomogeneity(referenceCounts: c.reference, currentCounts: c.current)
            #expect(FixtureSupport.relativelyClose(r.statistic, c.homogeneity_statistic, 1e-9), "\(c.name)")
            #expect(abs((r.pValue ?? -1) - c.homogeneity_pvalue) <= 1e-6, "\(c.name)")
        }
    }

    @Test func chiSquareSurvivalIsAccurateTo1e10Relative() throws {
        let file = try FixtureSupport.load(ChiFile.self, "chisquare.json")
        for c in file.chi2_sf {
            let sf = SpecialFunctions.chiSquareSurvival(c.x, degreesOfFreedom: c.df)
            #expect(FixtureSupport.relativelyClose(sf, c.sf, 1e-10) || (c.sf < 1e-300 && sf < 1e-290), "chi2.sf(\(c.x), \(c.df)) = \(sf) vs \(c.sf)")
        }
    }

    @Test func zTestMatchesEvidentlyFormula() throws {
        let file = try FixtureSupport.load(ChiFile.self, "chisquare.json")
        for c in file.z_cases {
            // Evidently's indicator is 0 for the first key; the fixture counts "first" as the
            // key with share p = count / n and z = (p1 - p2) / se, which is the same |z|.
            let r = DriftStatistics.zTest(referenceFirst: c.reference_n - c.reference_first, referenceTotal: c.reference_n,
                                          currentFirst: c.current_n - c.current_first, currentTotal: c.current_n)
            #expect(FixtureSupport.relativelyClose(r.statistic, c.statistic, 1e-9), "\(c.name): z \(r.statistic) vs \(c.statistic)")
            #expect(abs((r.pValue ?? -1) - c.pvalue) <= 1e-9, "\(c.name)")
        }
        for c in file.norm_cdf {
            #expect(FixtureSupport.relativelyClose(SpecialFunctions.normalCDF(c.x), c.cdf, 1e-12), "Φ(\(c.x))")
        }
    }

    @Test func singleValueEverywhereIsNoDriftForZ() {
        let r = DriftStatistics.zTest(referenceFirst: 100, referenceTotal: 100, currentFirst: 50, currentTotal: 50)
        #expect(r.pValue == 1)
        #expect(!r.drifted)
    }
}

@Suite struct DistanceParityTests {
    @Test func wassersteinJensenShannonAndPSIMatchScipyAndEvidentlyOnSamples() throws {
        let file = try FixtureSupport.load(DistanceFile.self, "distances.json")
        for c in file.numerical {
            let a = try c.a.generateChecked(), b = try c.b.generateChecked()
            let w = DriftStatistics.wassersteinDistance(sortedReference: a.sorted(), sortedCurrent: b.sorted())
            #expect(FixtureSupport.relativelyClose(w, c.wasserstein, 1e-9), "\(c.name): W \(w) vs \(c.wasserstein)")
            let normed = DriftStatistics.wasserstein(reference: a, current: b)
            #expect(FixtureSupport.relativelyClose(normed.statistic, c.wasserstein_normed, 1e-9), "\(c.name)")
            let binned = EvidentlyBinning.binnedCounts(reference: a, current: b, numerical: true)
            #expect(binned.reference.count == c.bins, "\(c.name): bins \(binned.reference.count) vs \(c.bins)")
            let js = DriftStatistics.jensenShannon(referenceCounts: binned.reference, currentCounts: binned.current)
            #expect(FixtureSupport.relativelyClose(js.statistic, c.jensenshannon, 1e-9), "\(c.name): JS \(js.statistic) vs \(c.jensenshannon)")
            let psi = DriftStatistics.psi(referenceCounts: binned.reference, currentCounts: binned.current)
            #expect(FixtureSupport.relativelyClose(psi.statistic, c.psi, 1e-9), "\(c.name): PSI \(psi.statistic) vs \(c.psi)")
        }
    }

    @Test func categoricalJensenShannonAndPSIMatch() throws {
        let file = try FixtureSupport.load(DistanceFile.self, "distances.json")
        for c in file.categorical {
            let js = DriftStatistics.jensenShannon(referenceCounts: c.reference, currentCounts: c.current)
            #expect(FixtureSupport.relativelyClose(js.statistic, c.jensenshannon, 1e-9), "\(c.name)")
            let psi = DriftStatistics.psi(referenceCounts: c.reference, currentCounts: c.current)
            #expect(FixtureSupport.relativelyClose(psi.statistic, c.psi, 1e-9), "\(c.name): \(psi.statistic) vs \(c.psi)")
        }
    }
}

@Suite struct KSMethodTests {
    /// The asymptotic option stays close to scipy's exact p-value for samples of a few hundred or more.
    @Test func asymptoticPValueIsCloseToExactForModerateSamples() throws {
        let file = try FixtureSupport.load(KSFile.self, "ks.json")
        var compared = 0
        for c in file.cases where c.name.hasPrefix("exact") {
            let a = try c.a.generateChecked(), b = try c.b.generateChecked()
            guard min(a.count, b.count) >= 200 else { continue }
            let r = DriftStatistics.kolmogorovSmirnov(statistic: c.statistic, referenceCount: a.count, currentCount: b.count, method: .asymptotic)
            let p = try #require(r.pValue)
            #expect(abs(p - c.pvalue) < 0.01, "\(c.name): asymptotic \(p) vs exact \(c.pvalue)")
            compared += 1
        }
        #expect(compared >= 4)
    }

    @Test func windowHonoursTheConfiguredMethod() throws {
        var rng = SplitMix64(seed: 8)
        let ref = (0..<500).map { _ in rng.uniform() }
        let profile = ReferenceProfile(source: "t", features: [FeatureProfile.numerical(name: "x", values: ref)])
        var window = try SlidingWindow(profile: profile, policy: .count(events: 2000, subwindows: 4))
        for _ in 0..<2000 { window.add([rng.uniform() * 1.05]) }
        let auto = window.evaluate().features[0].result
        let asymptotic = window.evaluate(configuration: DriftConfiguration(ksMethod: .asymptotic)).features[0].result
        #expect(auto.statistic == asymptotic.statistic)
        #expect(auto.pValue == KolmogorovSmirnov.exactPValue(statistic: auto.statistic, n1: 500, n2: 2000))
        #expect(asymptotic.pValue == KolmogorovSmirnov.asymptoticPValue(statistic: auto.statistic, n1: 500, n2: 2000))
    }
}
