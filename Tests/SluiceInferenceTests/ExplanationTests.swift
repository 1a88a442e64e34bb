import Foundation
import SluiceInference
import Testing

@Suite struct ExplanationTests {
    @Test(arguments: ["xgb_binary", "lgb_regression_cat", "linear_logistic"])
    func topKOrdersLibraryContributionsByMagnitude(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        let f = model.featureNames.count
        for (r, row) in fixture.rows.prefix(40).enumerated() {
            let explanation = try #require(model.explain(row: row).first)
            let top = explanation.topK(3)
            #expect(top.count == min(3, f))
            // The library's contributions, ranked independently.
            let library = Array(fixture.contributions[r][0..<f])
            let ranked = library.indices.sorted { abs(library[$0]) > abs(library[$1]) }
            #expect(abs(top[0].contribution - library[ranked[0]]) <= 1e-5, "row \(r)")
            #expect(top[0].featureIndex == ranked[0] || abs(abs(library[ranked[0]]) - abs(library[top[0].featureIndex])) <= 1e-5)
            for pair in zip(top, top.dropFirst()) {
                #expect(abs(pair.0.contribution) >= abs(pair.1.contribution))
            }
        }
    }

    @Test func topKOfMoreThanFeatureCountReturnsAllAndZeroReturnsNone() throws {
        let fixture = try FixtureCase("lgb_multiclass")
        let model = try fixture.load()
        let explanations = model.explain(row: fixture.rows[0])
        #expect(explanations.count == 3)
        #expect(explanations[1].topK(100).count == model.featureNames.count)
        #expect(explanations[1].topK(0).isEmpty)
        #expect(Set(explanations[1].topK(100).map(\.featureIndex)) == Set(0..<model.featureNames.count))
    }

    @Test func flatExplainMatchesLibraryLayout() throws {
        let fixture = try FixtureCase("xgb_multiclass")
        let model = try fixture.load()
        let width = model.marginCount * (model.featureNames.count + 1)
        var flat = [Double](repeating: .nan, count: width)
        fixture.rows[5].withUnsafeBufferPointer { row in
            flat.withUnsafeMutableBufferPointer { out in model.explain(row: row, into: out) }
        }
        for j in 0..<width {
            #expect(abs(flat[j] - fixture.contributions[5][j]) <= 1e-5)
        }
    }
}
