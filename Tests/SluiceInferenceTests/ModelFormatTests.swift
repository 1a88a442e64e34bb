import Foundation
import SluiceInference
import Testing

@Suite struct ModelFormatTests {
    @Test func detectsFormatsDespiteLeadingWhitespaceAndByteOrderMark() throws {
        let xgboost = try FixtureCase.data("xgb_binary.json")
        #expect(ModelFormat.detect(data: Data("\n  ".utf8) + xgboost) == .xgboostJSON)
        #expect(ModelFormat.detect(data: Data([0xEF, 0xBB, 0xBF]) + (try FixtureCase.data("lgb_binary.txt"))) == .lightgbmText)
        #expect(ModelFormat.detect(data: try FixtureCase.data("linear_logistic.json")) == .linearJSON)
        #expect(ModelFormat.detect(data: Data("not a model".utf8)) == nil)
        #expect(ModelFormat.detect(data: [UInt8]()) == nil)
    }

    @Test func formatNamesAreTheRegistryNames() {
        #expect(ModelFormat.allCases.map(\.rawValue) == ["xgboost-json", "lightgbm-text", "linear-json"])
        #expect(ModelFormat(rawValue: "lightgbm-text") == .lightgbmText)
    }

    @Test func loaderAcceptsBytesAndFiles() throws {
        let bytes = [UInt8](try FixtureCase.data("lgb_binary.txt"))
        let fromBytes = try ModelLoader.load(bytes: bytes, format: .lightgbmText)
        let fromFile = try ModelLoader.load(contentsOf: FixtureCase.directory.appendingPathComponent("lgb_binary.txt"))
        #expect(fromBytes.featureNames == fromFile.featureNames)
        #expect(fromBytes.model.format == .lightgbmText)
        let missing = FixtureCase.directory.appendingPathComponent("does-not-exist.json")
        #expect(throws: ModelError.self) { try ModelLoader.load(contentsOf: missing) }
    }

    @Test func explicitFormatIsTrustedWhenDetectionCannotTell() throws {
        // A linear document written by another tool, with "format" after a long feature list.
        let names = (0..<6000).map { "feature_\($0)" }
        let doc: [String: Any] = [
            "feature_names": names, "weights": [Double](repeating: 0.5, count: 6000),
            "intercept": 1.0, "link": "identity", "version": 1, "format": "sluice-linear",
        ]
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])
        #expect(ModelFormat.detect(data: data) == nil)
        let model = try ModelLoader.load(data: data, format: .linearJSON)
        #expect(model.featureNames.count == 6000)
        #expect(throws: ModelError.self) { try ModelLoader.load(data: data) }
        #expect(throws: ModelError.self) { try ModelLoader.load(data: Data("garbage".utf8), format: .lightgbmText) }
    }
}
