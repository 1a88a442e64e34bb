import Testing
@testable import SluiceMonitoring

@Suite struct DriftConfigurationSettingsTests {
    @Test func configurationNamesMapToTestsWithZtestForTheZTest() throws {
        #expect(DriftTest.allCases.map(\.configurationName) == ["ks", "chisquare", "ztest", "wasserstein", "jensenshannon", "psi"])
        for test in DriftTest.allCases {
            #expect(DriftTest(configurationName: test.configurationName) == test)
        }
        #expect(DriftTest(configurationName: "z") == .zTest)
        #expect(DriftTest(configurationName: "KS") == nil)

        let configuration = try DriftConfiguration(datasetShare: 0.3, overrides: ["a": ("ztest", 0.01), "b": ("psi", 0.2)])
        #expect(configuration.driftShare == 0.3)
        #expect(configuration.overrides == ["a": FeatureDriftOverride(test: .zTest, threshold: 0.01), "b": FeatureDriftOverride(test: .psi, threshold: 0.2)])
        #expect(configuration.chiSquareMode == DriftConfiguration().chiSquareMode)
        #expect(configuration.coarseBins == DriftConfiguration().coarseBins)
    }

    @Test func badSettingsNameTheFeatureAndWhatWasExpected() throws {
        let error = #expect(throws: DriftConfigurationError.self) {
            try DriftConfiguration(datasetShare: 0.5, overrides: ["amount": ("kolmogorov", 0.05)])
        }
        #expect(error?.message == "drift override for feature 'amount' names test 'kolmogorov'; expected one of ks, chisquare, ztest, wasserstein, jensenshannon, psi")
        #expect(throws: DriftConfigurationError.self) { try DriftConfiguration(datasetShare: 0.5, overrides: ["amount": ("psi", .infinity)]) }
        #expect(throws: DriftConfigurationError.self) { try DriftConfiguration(datasetShare: 0, overrides: [:]) }
        #expect(throws: DriftConfigurationError.self) { try DriftConfiguration(datasetShare: 1.5, overrides: [:]) }
    }
}

@Suite struct DriftComparisonTests {
    private static func profile() -> ReferenceProfile {
        ReferenceProfile.build(source: "t", columns: [
            ("x", .numerical((0..<300).map { Double($0) * 0.37 + 0.001 })),
            ("c", .categorical((0..<300).map { ["a", "b", "c"][$0 % 3] })),
        ])
    }

    @Test func holdsEveryRowInOneWindowAndMatchesTheExactTestWhenNothingTies() throws {
        let profile = Self.profile()
        let current: [Double] = (0..<500).map { Double($0) * 0.29 + 0.0005 }
        let categories: [String?] = (0..<500).map { $0 % 10 == 0 ? nil : ["a", "b", "c", "b"][$0 % 4] }
        let evaluation = try DriftComparison.evaluate(reference: profile, current: [("c", .categorical(categories)), ("x", .numerical(current)), ("extra", .numerical([]))])
        #expect(evaluation.events == 500)
        #expect(evaluation.features.map(\.feature) == ["x", "c"])
        #expect(evaluation.features.map(\.events) == [500, 450])
        let reference = (0..<300).map { Double($0) * 0.37 + 0.001 }
        let exact = DriftStatistics.kolmogorovSmirnov(reference: reference, current: current)
        let ks = evaluation.features[0].result
        #expect(ks.test == .kolmogorovSmirnov)
        #expect(FixtureSupport.relativelyClose(ks.statistic, exact.statistic, 1e-9))
        #expect(abs((ks.pValue ?? -1) - (exact.pValue ?? -2)) <= 1e-6)
        #expect(evaluation.features[1].result.test == .chiSquare)
    }

    @Test func refusesMissingColumnsKindMismatchesUnevenColumnsAndNoRows() {
        let profile = Self.profile()
        let x = FeatureColumn.numerical([1, 2])
        let c = FeatureColumn.categorical(["a", "b"])
        #expect(throws: WindowConfigurationError(message: "the current data has no column 'c'; expected every reference feature: x, c")) {
            try DriftComparison.evaluate(reference: profile, current: [("x", x)])
        }
        #expect(throws: WindowConfigurationError.self) { try DriftComparison.evaluate(reference: profile, current: [("x", c), ("c", c)]) }
        #expect(throws: WindowConfigurationError.self) { try DriftComparison.evaluate(reference: profile, current: [("x", x), ("c", x)]) }
        #expect(throws: WindowConfigurationError(message: "column 'c' has 1 values, expected 2 like the others")) {
            try DriftComparison.evaluate(reference: profile, current: [("x", x), ("c", .categorical(["a"]))])
        }
        #expect(throws: WindowConfigurationError.self) { try DriftComparison.evaluate(reference: profile, current: [("x", .numerical([])), ("c", .categorical([]))]) }
        var configuration = DriftConfiguration()
        configuration.overrides["c"] = FeatureDriftOverride(test: .wasserstein)
        #expect(throws: DriftConfigurationError.self) { try DriftComparison.evaluate(reference: profile, current: [("x", x), ("c", c)], configuration: configuration) }
    }

    /// Binned KS takes the reference jump at each edge before the window's values in that bin, which is exact only
    /// when no window value equals a reference value. Integer features with 6 to 1000 distinct values (counts) tie
    /// all the time: the statistic then exceeds the exact one by up to the mass of one window value, so identical
    /// data reports drift once the window is large.
    @Test func integerDataComparedWithItselfDoesNotDrift() throws {
        let values = (0..<1000).map { Double(($0 * 7919) % 20) }
        let profile = ReferenceProfile.build(source: "t", columns: [("count", .numerical(values))])
        let current = Array(repeating: values, count: 50).flatMap { $0 }
        let result = try DriftComparison.evaluate(reference: profile, current: [("count", .numerical(current))]).features[0].result
        #expect(result.test == .kolmogorovSmirnov)
        withKnownIssue("binned KS overestimates D by the window's mass at a tied reference value (BinnedDriftTests)") {
            #expect(result.statistic < 1e-12, "D of identical distributions is \(result.statistic)")
            #expect(!result.drifted)
        }
    }
}
