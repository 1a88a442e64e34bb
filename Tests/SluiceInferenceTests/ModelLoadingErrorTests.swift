import Foundation
import SluiceInference
import Testing

/// Corrupt, truncated, inconsistent and wrong-format model files are refused with a precise message.
@Suite struct ModelLoadingErrorTests {
    private func loadError(_ data: Data, format: ModelFormat? = nil) -> ModelError? {
        do {
            _ = try ModelLoader.load(data: data, format: format)
            return nil
        } catch {
            return error
        }
    }

    private func jsonObject(_ file: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: FixtureCase.data(file)) as? [String: Any])
    }

    /// Applies `edit` to `trees[index]` of an XGBoost JSON document.
    private func editXGBoostTree(_ file: String, index: Int, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        var doc = try jsonObject(file)
        var learner = try #require(doc["learner"] as? [String: Any])
        var booster = try #require(learner["gradient_booster"] as? [String: Any])
        var model = try #require(booster["model"] as? [String: Any])
        var trees = try #require(model["trees"] as? [[String: Any]])
        edit(&trees[index])
        model["trees"] = trees
        booster["model"] = model
        learner["gradient_booster"] = booster
        doc["learner"] = learner
        return try JSONSerialization.data(withJSONObject: doc)
    }

    @Test func truncatedXGBoostJSONIsInvalid() throws {
        let data = try FixtureCase.data("xgb_binary.json")
        let error = try #require(loadError(data.prefix(data.count / 2)))
        #expect(error.code == .invalidModel)
        #expect(error.message.hasPrefix("xgboost JSON:"))
        #expect(error.message.contains("truncated or corrupt"))
    }

    @Test func xgboostArrayLengthMismatchNamesTheTreeAndField() throws {
        var nodeCount = 0
        let data = try editXGBoostTree("xgb_binary.json", index: 3) { tree in
            var conditions = tree["split_conditions"] as? [Any] ?? []
            nodeCount = conditions.count
            conditions.removeLast()
            tree["split_conditions"] = conditions
        }
        let error = try #require(loadError(data))
        #expect(error.code == .invalidModel)
        #expect(error.message == "xgboost JSON: learner.gradient_booster.model.trees[3].split_conditions has \(nodeCount - 1) entries, expected \(nodeCount) (num_nodes)")
    }

    @Test func xgboostMissingFieldIsNamedWithItsPath() throws {
        let data = try editXGBoostTree("xgb_regression.json", index: 1) { tree in
            tree.removeValue(forKey: "sum_hessian")
        }
        let error = try #require(loadError(data))
        #expect(error.code == .invalidModel)
        #expect(error.message == "xgboost JSON: learner.gradient_booster.model.trees[1].sum_hessian is missing")
    }

    @Test func xgboostChildOutOfRangeIsRefused() throws {
        let data = try editXGBoostTree("xgb_regression.json", index: 0) { tree in
            var left = tree["left_children"] as? [Int] ?? []
            left[0] = 9999
            tree["left_children"] = left
        }
        let error = try #require(loadError(data))
        #expect(error.code == .invalidModel)
        #expect(error.message.contains("trees[0]: node 0 has child 9999"))
    }

    @Test func xgboostCategoricalSplitWithoutCategorySetIsInvalid() throws {
        let data = try editXGBoostTree("xgb_binary.json", index: 0) { tree in
            var types = tree["split_type"] as? [Int] ?? []
            types[0] = 1
            tree["split_type"] = types
        }
        let error = try #require(loadError(data))
        #expect(error.code == .invalidModel)
        #expect(error.message == "xgboost JSON: learner.gradient_booster.model.trees[0].split_type[0] is categorical but node 0 is not in categories_nodes")
    }

    @Test func xgboostUnknownSplitTypeIsUnsupported() throws {
        let data = try editXGBoostTree("xgb_binary.json", index: 2) { tree in
            var types = tree["split_type"] as? [Int] ?? []
            types[1] = 2
            tree["split_type"] = types
        }
        let error = try #require(loadError(data))
        #expect(error.code == .unsupportedModel)
        #expect(error.message.contains("trees[2].split_type[1] is 2, expected 0 (numerical) or 1 (categorical)"))
    }

    @Test func xgboostUnknownObjectiveIsUnsupported() throws {
        let text = try #require(String(data: FixtureCase.data("xgb_regression.json"), encoding: .utf8))
        let data = Data(text.replacingOccurrences(of: "\"reg:squarederror\"", with: "\"survival:aft\"").utf8)
        let error = try #require(loadError(data))
        #expect(error.code == .unsupportedModel)
        #expect(error.message.contains("\"survival:aft\""))
    }

    @Test func truncatedLightGBMTextIsInvalid() throws {
        let text = try #require(String(data: FixtureCase.data("lgb_binary.txt"), encoding: .utf8))
        let cut = text.range(of: "Tree=3")?.lowerBound ?? text.endIndex
        let error = try #require(loadError(Data(text[..<cut].utf8)))
        #expect(error.code == .invalidModel)
        #expect(error.message == "lightgbm text: the file ends after 3 trees without an \"end of trees\" line (truncated?)")
    }

    @Test func lightgbmEntryCountMismatchNamesTreeAndKey() throws {
        let text = try #require(String(data: FixtureCase.data("lgb_multiclass.txt"), encoding: .utf8))
        var lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "Tree=2"))
        let index = try #require(lines[start...].firstIndex { $0.hasPrefix("leaf_value=") })
        let values = lines[index].dropFirst("leaf_value=".count).split(separator: " ")
        lines[index] = "leaf_value=" + values.dropLast().joined(separator: " ")
        let error = try #require(loadError(Data(lines.joined(separator: "\n").utf8)))
        #expect(error.code == .invalidModel)
        #expect(error.message == "lightgbm text: Tree=2: leaf_value has \(values.count - 1) entries, expected \(values.count)")
    }

    @Test func lightgbmBadNumberIsNamed() throws {
        let text = try #require(String(data: FixtureCase.data("lgb_binary.txt"), encoding: .utf8))
        let corrupted = text.replacingOccurrences(of: "\nthreshold=", with: "\nthreshold=abc ", options: [], range: nil)
        let error = try #require(loadError(Data(corrupted.utf8)))
        #expect(error.code == .invalidModel)
        #expect(error.message == "lightgbm text: Tree=0: threshold entry 0 is \"abc\", expected a number")
    }

    @Test func lightgbmLinearTreesAreUnsupported() throws {
        let text = try #require(String(data: FixtureCase.data("lgb_binary.txt"), encoding: .utf8))
        let linear = text.replacingOccurrences(of: "is_linear=0", with: "is_linear=1")
        let error = try #require(loadError(Data(linear.utf8)))
        #expect(error.code == .unsupportedModel)
        #expect(error.message.contains("linear trees are not supported"))
    }

    @Test func wrongFormatIsRefused() throws {
        let lightgbm = try FixtureCase.data("lgb_binary.txt")
        let error = try #require(loadError(lightgbm, format: .xgboostJSON))
        #expect(error.code == .unknownFormat)
        #expect(error.message == "model file was loaded as xgboost-json but looks like lightgbm-text")
        let xgboost = try FixtureCase.data("xgb_binary.json")
        #expect(loadError(xgboost, format: .linearJSON)?.code == .unknownFormat)
    }

    @Test func unknownBytesAreRefused() {
        #expect(loadError(Data("hello, world".utf8))?.code == .unknownFormat)
        #expect(loadError(Data())?.message.contains("the file is empty") == true)
        #expect(loadError(Data([0x7B, 0x4C, 0x00, 0x00, 0x00, 0x07]))?.message.contains("UBJSON") == true)
        #expect(loadError(Data("{\"something\": 1}".utf8))?.code == .unknownFormat)
    }

    @Test func linearWeightCountMismatchIsNamed() throws {
        var doc = try jsonObject("linear_regression.json")
        doc["weights"] = [1.0, 2.0]
        let error = try #require(loadError(try JSONSerialization.data(withJSONObject: doc)))
        #expect(error.code == .invalidModel)
        #expect(error.message == "linear JSON: weights has 2 entries, expected 5 (one per feature name)")
        doc["weights"] = [1.0, 2.0, 3.0, 4.0, 5.0]
        doc["link"] = "probit"
        #expect(loadError(try JSONSerialization.data(withJSONObject: doc))?.message == "linear JSON: link is \"probit\", expected identity, logistic or softmax")
        doc["link"] = "identity"
        doc["version"] = 2
        #expect(loadError(try JSONSerialization.data(withJSONObject: doc))?.code == .unsupportedModel)
    }

    @Test func truncatedLinearJSONIsInvalid() throws {
        let data = try FixtureCase.data("linear_logistic.json")
        let error = try #require(loadError(data.prefix(data.count - 20), format: .linearJSON))
        #expect(error.code == .invalidModel)
        #expect(error.message.hasPrefix("linear JSON:"))
    }
}
