import Foundation
import Testing
@testable import SluiceMonitoring

@Suite struct ReferenceProfileTests {
    @Test func profileRoundTripsThroughJSON() throws {
        var rng = SplitMix64(seed: 3)
        let values = (0..<5000).map { _ in rng.uniform() * 10 }
        let profile = ReferenceProfile(source: "snapshot-1", features: [
            FeatureProfile.numerical(name: "x", values: values + [.nan], bins: 150),
            FeatureProfile.categorical(name: "c", values: ["a", "b", "a", nil, "c"], maxCategories: 2),
        ])
        let data = try JSONEncoder().encode(profile)
        let decoded = try JSONDecoder().decode(ReferenceProfile.self, from: data)
        #expect(decoded == profile)
        #expect(decoded.events == 5001)
    }

    @Test func buildKeepsColumnOrderAndKinds() {
        let p = ReferenceProfile.build(source: "csv", columns: [
            (name: "amount", values: .numerical([1, 2, 3, .nan])),
            (name: "country", values: .categorical(["de", "fr", nil])),
        ])
        #expect(p.features.map(\.name) == ["amount", "country"])
        #expect(p.features.map(\.kind) == [.numerical, .categorical])
        #expect(p.features[0].missing == 1 && p.features[1].missing == 1)
        #expect(p.events == 4)
    }

    @Test func numericalProfileSummarisesTheReference() throws {
        var rng = SplitMix64(seed: 4)
        let values = (0..<20000).map { _ in rng.uniform() }
        let p = FeatureProfile.numerical(name: "x", values: values, bins: 200, sampleCap: 1000)
        #expect(p.count == 20000)
        #expect(p.sample == nil, "above the sample cap the exact sample is not kept")
        #expect(p.binCount == p.edges.count + 1 && p.binCount <= 201)
        #expect(p.binCounts.reduce(0, +) == 20000)
        let maxShare = p.binCounts.max()! / 20000
        #expect(maxShare < 0.0075, "quantile bins hold about 1/200 of the reference each")
        #expect(abs(p.mean - values.reduce(0, +) / 20000) < 1e-12)
        #expect(abs(p.standardDeviation - DriftStatistics.populationStandardDeviation(values)) < 1e-12)
        #expect(p.minimum == values.min() && p.maximum == values.max())
    }

    @Test func categoricalProfileFoldsRareCategoriesIntoOther() {
        let p = FeatureProfile.categorical(name: "c", values: ["a", "a", "a", "b", "b", "c", "d", nil], maxCategories: 2)
        #expect(p.categories == ["a", "b"])
        #expect(p.binCounts == [3, 2, 2])
        #expect(p.missing == 1 && p.uniqueCount == 4)
    }

    @Test func fewDistinctNumbersUseADiscreteLayout() {
        let p = FeatureProfile.numerical(name: "d", values: [0, 1, 1, 2, 2, 2])
        #expect(p.discrete)
        #expect(p.bin(of: 1) == 1)
        #expect(p.bin(of: 1.5) == 3, "values outside the reference set go to the last bin")
    }
}
