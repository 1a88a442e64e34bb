import Foundation
import SluiceInference
import Testing

/// Parity with the reference libraries on the generated fixtures.
@Suite struct ModelParityTests {
    static let treeCases = [
        "xgb_binary", "xgb_regression", "xgb_multiclass", "xgb_softmax", "xgb_reglogistic", "xgb_absoluteerror", "xgb_dart", "xgb_categorical",
        "lgb_binary", "lgb_regression_cat", "lgb_multiclass", "lgb_zero_missing", "lgb_rf", "lgb_constant",
    ]
    static let allCases = treeCases + ["linear_logistic", "linear_regression", "linear_multinomial"]

    @Test(arguments: allCases)
    func loadsWithFormatFeatureNamesAndOutputShape(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        #expect(model.format.rawValue == fixture.format)
        #expect(ModelFormat.detect(data: fixture.modelData)?.rawValue == fixture.format)
        #expect(model.featureNames == fixture.featureNames)
        #expect(model.outputCount == fixture.outputCount)
        #expect(model.marginCount == fixture.marginCount)
    }

    @Test(arguments: allCases)
    func singleRowPredictionsMatchLibrary(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        var worst = 0.0
        for (r, row) in fixture.rows.enumerated() {
            let got = model.predict(row: row)
            let margin = model.predictMargin(row: row)
            for k in 0..<fixture.outputCount {
                let diff = abs(got[k] - fixture.predictions[r][k])
                worst = max(worst, diff)
                #expect(diff <= 1e-6, "\(name) row \(r) output \(k): got \(got[k]), library \(fixture.predictions[r][k]), row \(row)")
            }
            for k in 0..<fixture.marginCount {
                let diff = abs(margin[k] - fixture.margins[r][k])
                #expect(diff <= 1e-6, "\(name) row \(r) margin \(k): got \(margin[k]), library \(fixture.margins[r][k]), row \(row)")
            }
        }
        #expect(worst <= 1e-6)
    }

    @Test(arguments: allCases)
    func batchScoringEqualsSingleRowScoring(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        let n = fixture.rows.count
        let batch = model.predictBatch(rows: fixture.flatRows, rowCount: n)
        let margins = model.predictMarginBatch(rows: fixture.flatRows, rowCount: n)
        #expect(batch.count == n * model.outputCount)
        for (r, row) in fixture.rows.enumerated() {
            let single = model.predict(row: row)
            let singleMargin = model.predictMargin(row: row)
            #expect(Array(batch[(r * model.outputCount)..<((r + 1) * model.outputCount)]) == single, "\(name) row \(r)")
            #expect(Array(margins[(r * model.marginCount)..<((r + 1) * model.marginCount)]) == singleMargin, "\(name) row \(r)")
            for k in 0..<fixture.marginCount {
                #expect(abs(margins[r * model.marginCount + k] - fixture.margins[r][k]) <= 1e-6, "\(name) row \(r) margin \(k)")
            }
        }
    }

    @Test(arguments: allCases)
    func contributionsMatchLibraryAndSumToMargin(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        let width = model.featureNames.count + 1
        for (r, row) in fixture.rows.enumerated() {
            let explanations = model.explain(row: row)
            #expect(explanations.count == model.marginCount)
            let margin = model.predictMargin(row: row)
            for (k, e) in explanations.enumerated() {
                for j in 0..<width {
                    let got = j < width - 1 ? e.contributions[j] : e.bias
                    let want = fixture.contributions[r][k * width + j]
                    #expect(abs(got - want) <= 1e-5, "\(name) row \(r) class \(k) feature \(j): got \(got), library \(want)")
                }
                let total = e.bias + e.contributions.reduce(0, +)
                #expect(abs(total - margin[k]) <= 1e-5, "\(name) row \(r) class \(k): contributions sum \(total), margin \(margin[k])")
            }
        }
    }

    @Test(arguments: allCases)
    func pathAttributionSumsToMarginAndMatchesXGBoostApproxContribs(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        let width = model.featureNames.count + 1
        for (r, row) in fixture.rows.enumerated() {
            let explanations = model.explainPath(row: row)
            let margin = model.predictMargin(row: row)
            for (k, e) in explanations.enumerated() {
                let total = e.bias + e.contributions.reduce(0, +)
                #expect(abs(total - margin[k]) <= 1e-5, "\(name) row \(r) class \(k): attributions sum \(total), margin \(margin[k])")
                guard let approx = fixture.approxContributions else { continue }
                for j in 0..<width {
                    let got = j < width - 1 ? e.contributions[j] : e.bias
                    let want = approx[r][k * width + j]
                    #expect(abs(got - want) <= 1e-5, "\(name) row \(r) class \(k) feature \(j): got \(got), xgboost approx \(want)")
                }
            }
        }
    }
}
