import Foundation
import SluiceInference
import SluiceMonitoring
import SluiceRegistry
import Testing

/// examples/drift/expected.json, written by scripts/fixtures/gen_drift_compare.py with scipy.
struct ExpectedComparison: Decodable {
    struct Result: Decodable {
        var feature: String
        var test: String
        var statistic: Double
        var p_value: Double?
        var threshold: Double
        var drifted: Bool
        var events: Int
    }
    struct Defaults: Decodable {
        var features: [Result]
        var drifted_features: Int
        var total_features: Int
        var dataset_drift: Bool
    }
    var defaults: Defaults
    var overrides: [Result]

    static func load() throws -> ExpectedComparison {
        try JSONDecoder().decode(ExpectedComparison.self, from: Data(contentsOf: Files.url("examples/drift/expected.json")))
    }

    static let reference = "examples/drift/reference.csv"
    static let current = "examples/drift/current.csv"
    /// The one result the window path only approximates (Wasserstein over bin means on a continuous column).
    static let approximate: Set<String> = ["amount_mean_24h/wasserstein"]
}

/// |a − b| ≤ tolerance · |b| (equal values, infinities included, always agree).
func relativelyClose(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool {
    a == b || abs(a - b) <= tolerance * abs(b)
}

/// Checks a window-path result against scipy's: exact tests to 1e-9 relative (p-values 1e-6 absolute, as the
/// monitoring parity tests), the approximate Wasserstein to the window path's documented 2 % + 0.002.
func expectAgreement(test: String, statistic: Double, pValue: Double?, threshold: Double, drifted: Bool, events: Int,
                     with expected: ExpectedComparison.Result, sourceLocation: SourceLocation = #_sourceLocation) {
    let label = "\(expected.feature) \(expected.test)"
    #expect(test == expected.test, "\(label): test \(test)", sourceLocation: sourceLocation)
    if ExpectedComparison.approximate.contains("\(expected.feature)/\(expected.test)") {
        #expect(abs(statistic - expected.statistic) <= 0.02 * expected.statistic + 0.002, "\(label): \(statistic) vs scipy \(expected.statistic)", sourceLocation: sourceLocation)
    } else {
        #expect(relativelyClose(statistic, expected.statistic, 1e-9), "\(label): \(statistic) vs scipy \(expected.statistic)", sourceLocation: sourceLocation)
    }
    switch (pValue, expected.p_value) {
    case (nil, nil): break
    case let (p?, want?):
        #expect(abs(p - want) <= 1e-6, "\(label): p \(p) vs scipy \(want)", sourceLocation: sourceLocation)
        #expect(relativelyClose(p, want, 1e-6) || want < 1e-12, "\(label): p \(p) vs scipy \(want)", sourceLocation: sourceLocation)
    default:
        Issue.record("\(label): p-value \(String(describing: pValue)) vs scipy \(String(describing: expected.p_value))", sourceLocation: sourceLocation)
    }
    #expect(threshold == expected.threshold, "\(label)", sourceLocation: sourceLocation)
    #expect(drifted == expected.drifted, "\(label)", sourceLocation: sourceLocation)
    #expect(events == expected.events, "\(label)", sourceLocation: sourceLocation)
}

/// `sluice drift compare`'s code path (CSV → inferred profile → one count window) against scipy on examples/drift.
@Suite struct DriftCompareParityTests {
    static func evaluate(_ configuration: DriftConfiguration = DriftConfiguration()) throws -> (ReferenceProfile, WindowEvaluation) {
        let reference = try CSVTable.read(path: Files.url(ExpectedComparison.reference).path)
        let current = try CSVTable.read(path: Files.url(ExpectedComparison.current).path)
        let profile = ReferenceProfile.build(source: "reference.csv", columns: try ReferenceBuilder.inferredColumns(table: reference))
        let evaluation = try DriftComparison.evaluate(reference: profile, current: try ReferenceBuilder.columns(table: current, matching: profile),
                                                      configuration: configuration)
        return (profile, evaluation)
    }

    @Test func everyColumnGetsItsKindAndEvidentlysDefaultTestAndAgreesWithScipy() throws {
        let expected = try ExpectedComparison.load()
        let (profile, evaluation) = try Self.evaluate()
        #expect(profile.features.map(\.name) == expected.defaults.features.map(\.feature))
        #expect(profile.features.filter { $0.kind == .categorical }.map(\.name) == ["last_country", "channel"])
        #expect(profile.events == 800)
        #expect(evaluation.events == 1000)
        try #require(evaluation.features.count == expected.defaults.features.count)
        for (got, want) in zip(evaluation.features, expected.defaults.features) {
            #expect(got.feature == want.feature)
            expectAgreement(test: got.result.test.rawValue, statistic: got.result.statistic, pValue: got.result.pValue,
                            threshold: got.result.threshold, drifted: got.result.drifted, events: got.events, with: want)
        }
        #expect(evaluation.driftedFeatures == expected.defaults.drifted_features)
        #expect(evaluation.datasetDrifted == expected.defaults.dataset_drift)
    }

    @Test func overriddenTestsAgreeWithScipy() throws {
        let expected = try ExpectedComparison.load()
        var settings: [String: (test: String, threshold: Double)] = [:]
        for o in expected.overrides { settings[o.feature] = (o.test, o.threshold) }
        let (_, evaluation) = try Self.evaluate(try DriftConfiguration(datasetShare: 0.5, overrides: settings))
        for want in expected.overrides {
            let got = try #require(evaluation.features.first { $0.feature == want.feature })
            expectAgreement(test: got.result.test.rawValue, statistic: got.result.statistic, pValue: got.result.pValue,
                            threshold: got.result.threshold, drifted: got.result.drifted, events: got.events, with: want)
        }
        // Columns without an override keep their default result.
        let untouched = try #require(evaluation.features.first { $0.feature == "amount" })
        let amount = try #require(expected.defaults.features.first { $0.feature == "amount" })
        expectAgreement(test: untouched.result.test.rawValue, statistic: untouched.result.statistic, pValue: untouched.result.pValue,
                        threshold: untouched.result.threshold, drifted: untouched.result.drifted, events: untouched.events, with: amount)
    }
}
