import Foundation
import SluiceInference
import Testing

@Suite struct CSVScoringTests {
    private func cell(_ x: Double, row: Int) -> String {
        guard !x.isNaN else { return row % 2 == 0 ? "" : "NaN" }
        return "\(x)"
    }

    @Test(arguments: ["lgb_regression_cat", "xgb_multiclass", "linear_logistic"])
    func scoresRowsWithShuffledColumnsExtraColumnsAndMissingCells(name: String) throws {
        let fixture = try FixtureCase(name)
        let model = try fixture.load()
        let names = model.featureNames
        let order = Array(names.indices.reversed())
        var text = "id,\"comment, quoted\"," + order.map { names[$0] }.joined(separator: ",") + "\r\n"
        for (r, row) in fixture.rows.enumerated() {
            text += "e\(r),\"say \"\"hi\"\"\nnext line\"," + order.map { cell(row[$0], row: r) }.joined(separator: ",") + "\r\n"
        }
        let result = try CSVScoring(model: model, keepColumns: ["id"]).score(csv: text)
        #expect(result.rowCount == fixture.rows.count)
        #expect(result.keptValues.first == "e0")
        let k = model.outputCount
        for r in 0..<fixture.rows.count {
            for j in 0..<k {
                #expect(abs(result.predictions[r * k + j] - fixture.predictions[r][j]) <= 1e-6, "\(name) row \(r)")
            }
        }
        let rendered = result.csv(includeMargins: true)
        let lines = rendered.split(separator: "\n")
        #expect(lines.count == fixture.rows.count + 1)
        #expect(lines[0].hasPrefix("id,prediction"))
        #expect(lines[0].contains("margin"))
    }

    @Test func parserHandlesQuotesEscapesAndLineEndings() throws {
        let records = try CSVScoring.parse("a,b,c\r\n\"x, y\",\"he said \"\"no\"\"\",\"multi\nline\"\n1,,3")
        #expect(records == [["a", "b", "c"], ["x, y", "he said \"no\"", "multi\nline"], ["1", "", "3"]])
    }

    @Test func unclosedQuoteIsAnError() {
        #expect(throws: ModelError.self) { try CSVScoring.parse("a,b\n\"open,2\n") }
    }

    @Test func missingFeatureColumnsAreListed() throws {
        let model = try FixtureCase("lgb_binary").load()
        do {
            _ = try CSVScoring(model: model).score(csv: "b0,b1,other\n1,2,3\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidCSV)
            #expect(error.message == "CSV header lacks 6 model feature column(s): b2, b3, b4, b5, b6, b7")
        }
    }

    @Test func nonNumericCellNamesRowAndColumn() throws {
        let model = try FixtureCase("linear_regression").load()
        let header = model.featureNames.joined(separator: ",")
        do {
            _ = try CSVScoring(model: model).score(csv: "\(header)\n1,2,3,4,5\n1,2,x3,4,5\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "CSV row 3, column \"l2\": \"x3\" is not a number (empty or NaN marks a missing value)")
        }
    }

    @Test func linearModelThatRefusesMissingValuesNamesTheFeature() throws {
        let original = try FixtureCase("linear_regression")
        let text = try #require(String(data: original.modelData, encoding: .utf8))
        let strict = try ModelLoader.load(data: Data(text.replacingOccurrences(of: "\"zero\"", with: "\"error\"").utf8))
        var row = original.rows[0].map { $0.isNaN ? 0 : $0 }
        try strict.validate(row: row)
        row[3] = .nan
        #expect(throws: ModelError.self) { try strict.validate(row: row) }
        #expect(strict.predict(row: row)[0].isNaN)
        let header = strict.featureNames.joined(separator: ",")
        do {
            _ = try CSVScoring(model: strict).score(csv: "\(header)\n1,2,3,,5\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message == "CSV row 2: feature \"l3\" is missing (NaN), and this linear model has \"missing\": \"error\"")
        }
    }
}
