import Foundation
import SluiceInference
import SluiceMonitoring
import SluiceRegistry
import Testing

/// The example pipeline (config/sluice.yaml) in order; `last_country` is its one string feature.
let examplePipeline = ["amount", "txn_count_1h", "txn_count_24h", "amount_sum_1h", "amount_mean_24h", "amount_max_24h",
                       "amount_std_7d", "merchants_7d", "last_country", "secs_since_last"]

/// ``ReferenceBuilder`` and ``CSVTable``: which columns a model's reference has, its score column, and bad input.
@Suite struct ReferenceBuilderTests {
    static func fraudModel() throws -> LoadedModel {
        try ModelLoader.load(contentsOf: Files.url("examples/models/fraud-xgb.json"))
    }

    @Test func referenceHasThePipelineFeaturesOfTheFileInPipelineOrderThenTheModelsScores() throws {
        let path = Files.url(ExpectedComparison.reference).path
        let table = try CSVTable.read(path: path)
        let model = try Self.fraudModel()
        // A pipeline with a feature the file lacks (not monitored) and its features in another order than the file.
        let pipeline = ["last_country", "secs_since_last", "not_in_file"] + examplePipeline.filter { $0 != "last_country" && $0 != "secs_since_last" }
        let columns = try ReferenceBuilder.modelReferenceColumns(table: table, pipelineFeatures: pipeline, categorical: ["last_country"],
                                                                 model: model, modelName: "fraud")
        #expect(columns.map(\.name) == pipeline.filter { $0 != "not_in_file" } + ["score"], "channel is not a pipeline feature")
        guard case .categorical(let countries) = try #require(columns.first?.values) else {
            Issue.record("last_country should be categorical")
            return
        }
        #expect(countries.count == 800)
        #expect(countries.filter { $0 == nil }.count == 16, "empty cells are missing (16 in the file)")
        #expect(Set(countries.compactMap { $0 }) == ["DE", "FR", "GB", "IT", "US"])
        guard case .numerical(let std) = try #require(columns.first { $0.name == "amount_std_7d" }?.values) else {
            Issue.record("amount_std_7d should be numerical")
            return
        }
        #expect(std.filter(\.isNaN).count == 23, "empty cells are missing (23 in the file)")

        // The score column is the model's prediction of every row, as `sluice models score` computes it.
        let scored = try CSVScoring(model: model).score(contentsOf: URL(fileURLWithPath: path))
        guard case .numerical(let scores) = try #require(columns.last?.values) else {
            Issue.record("score should be numerical")
            return
        }
        #expect(scores == scored.predictions)
        #expect(Set(scores).count > 100, "scores vary with the rows")

        let profile = try ReferenceBuilder.modelReference(table: table, pipelineFeatures: pipeline, categorical: ["last_country"],
                                                          model: model, modelName: "fraud", source: "reference.csv")
        #expect(profile.source == "reference.csv")
        #expect(profile.events == 800)
        #expect(profile.features.last == FeatureProfile.numerical(name: "score", values: scored.predictions))
        #expect(profile.features.first?.kind == .categorical)
    }

    @Test func multiclassModelsScoreTheirLargestClassProbability() throws {
        let model = try ModelLoader.load(contentsOf: Files.url("Tests/SluiceInferenceTests/Fixtures/models/linear_multinomial.json"))
        try #require(model.outputCount == 3)
        var text = "id,l0,l1,kind,l2,l3,l4\n"
        var rows: [[Double]] = []
        for i in 0..<40 {
            let row = (0..<5).map { j in Double((i * 7 + j * 13) % 17) / 4 - 2 }
            rows.append(row)
            text += "r\(i),\(row[0]),\(row[1]),\(i % 2 == 0 ? "a" : "b"),\(row[2]),\(row[3]),\(row[4])\n"
        }
        let table = try CSVTable(name: "multi.csv", text: text)
        let columns = try ReferenceBuilder.modelReferenceColumns(table: table, pipelineFeatures: ["kind"] + Files.linearFeatures,
                                                                 categorical: ["kind"], model: model, modelName: "multi")
        #expect(columns.map(\.name) == ["kind", "l0", "l1", "l2", "l3", "l4", "score"])
        let expected = rows.map { model.predict(row: $0).max() ?? .nan }
        #expect(columns.last?.values == .numerical(expected))
        #expect(expected.allSatisfy { $0 > 1.0 / 3 && $0 < 1 })
    }

    @Test func badCellsNameTheFileTheLineAndTheColumn() throws {
        let model = try Self.fraudModel()
        let header = "note," + Files.fraudFeatures.joined(separator: ",")
        let good = "x," + Files.fraudFeatures.map { _ in "1.5" }.joined(separator: ",")
        let bad = "x,1.5,2,oops," + Array(repeating: "1", count: Files.fraudFeatures.count - 3).joined(separator: ",")
        // A quoted line break in row 1 moves the bad row to line 5.
        let text = "\(header)\n\"two\nlines\"\(good.dropFirst(1))\n\(good)\n\(bad)\n"
        let table = try CSVTable(name: "ref.csv", text: text)
        #expect(table.lines == [2, 4, 5])
        let error = #expect(throws: ReferenceError.self) {
            try ReferenceBuilder.modelReference(table: table, pipelineFeatures: Files.fraudFeatures, categorical: [], model: model,
                                                modelName: "fraud", source: "ref.csv")
        }
        #expect(error?.message == #"ref.csv line 5, column "txn_count_24h": "oops" is not a number; expected a number, or an empty cell or NaN for a missing value"#)
        #expect(error?.file == "ref.csv")
        #expect(error?.line == 5)
        #expect(error?.column == "txn_count_24h")
    }

    @Test func malformedFilesAreRefusedWithTheirLine() throws {
        #expect(try #require(#expect(throws: ReferenceError.self) { try CSVTable(name: "e.csv", text: "") }).message
                == "e.csv is empty; expected a header line of column names, then one line per row")
        #expect(#expect(throws: ReferenceError.self) { try CSVTable(name: "d.csv", text: "a,b,a\n1,2,3\n") }?.message
                == #"d.csv line 1: column "a" appears twice in the header (columns 1 and 3); expected distinct names"#)
        #expect(#expect(throws: ReferenceError.self) { try CSVTable(name: "w.csv", text: "a,b\r\n1,2\r\n3\r\n") }?.message
                == "w.csv line 3: the row has 1 field(s); expected 2, one per header column")
        #expect(#expect(throws: ReferenceError.self) { try CSVTable(name: "q.csv", text: "a,b\n1,\"2\n") }?.message.hasPrefix("q.csv: CSV line") == true)
        let bom = try CSVTable(name: "bom.csv", text: "\u{FEFF}a, b \n1,x\n\n")
        #expect(bom.header == ["a", "b"])
        #expect(bom.rows == [["1", "x"]])
        let inferred = try ReferenceBuilder.inferredColumns(table: try CSVTable(name: "t.csv", text: "n,c,m\n1,a,\nNaN,2,\n,b,\n-3e2,c,\n"))
        #expect(inferred.map(\.name) == ["n", "c", "m"])
        #expect(sameColumn(inferred[0].values, .numerical([1, .nan, .nan, -300])), "numbers, NaN and empty cells missing")
        #expect(inferred[1].values == .categorical(["a", "2", "b", "c"]), "one cell is not a number: categories")
        #expect(sameColumn(inferred[2].values, .numerical([.nan, .nan, .nan, .nan])), "only missing cells: numerical")
    }

    @Test func modelFeaturesMustHaveColumnsAndTheScoreNameIsReserved() throws {
        let model = try Self.fraudModel()
        let table = try CSVTable(name: "few.csv", text: "amount,merchants_7d\n1,2\n")
        let missing = #expect(throws: ReferenceError.self) {
            try ReferenceBuilder.modelReference(table: table, pipelineFeatures: examplePipeline, categorical: ["last_country"], model: model,
                                                modelName: "fraud", source: "few.csv")
        }
        #expect(missing?.message.hasPrefix("few.csv lacks the column(s) txn_count_1h, txn_count_24h, amount_sum_1h, amount_mean_24h, amount_max_24h, amount_std_7d, secs_since_last that model 'fraud' scores") == true)
        let reserved = #expect(throws: ReferenceError.self) {
            try ReferenceBuilder.modelReference(table: table, pipelineFeatures: examplePipeline + ["score"], categorical: [], model: model,
                                                modelName: "fraud", source: "few.csv")
        }
        #expect(reserved?.message.hasPrefix("the pipeline has a feature named 'score'") == true)
        let empty = #expect(throws: ReferenceError.self) {
            try ReferenceBuilder.modelReference(table: try CSVTable(name: "h.csv", text: Files.fraudFeatures.joined(separator: ",") + "\n"),
                                                pipelineFeatures: examplePipeline, categorical: [], model: model, modelName: "fraud", source: "h.csv")
        }
        #expect(empty?.message == "h.csv has a header but no rows; expected at least one row of reference data")
    }

    @Test func rowsTheModelRefusesNameTheirLine() throws {
        let strict = try ModelLoader.load(data: Data(#"{"format": "sluice-linear", "version": 1, "feature_names": ["a", "b"], "weights": [1, 2], "link": "logistic", "missing": "error"}"#.utf8))
        let table = try CSVTable(name: "s.csv", text: "a,b\n1,2\n3,\n")
        let error = #expect(throws: ReferenceError.self) {
            try ReferenceBuilder.modelReference(table: table, pipelineFeatures: ["a", "b"], categorical: [], model: strict, modelName: "strict", source: "s.csv")
        }
        #expect(error?.line == 3)
        #expect(error?.message.hasPrefix("s.csv line 3: model 'strict' cannot score the row: ") == true)
    }

    @Test func parquetIsRefusedByNameAndByContentSayingCSVIsSupported() throws {
        let byName = #expect(throws: ReferenceError.self) { try CSVTable.read(path: "/nonexistent/ref.parquet") }
        #expect(byName?.message.contains("is a Parquet file; reference data in Parquet is not supported yet, only CSV") == true)
        let disguised = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-ref-\(UUID().uuidString).csv")
        try Data("PAR1\u{0}\u{0}".utf8).write(to: disguised)
        defer { try? FileManager.default.removeItem(at: disguised) }
        let byContent = #expect(throws: ReferenceError.self) { try CSVTable.read(path: disguised.path) }
        #expect(byContent?.message.hasPrefix("\(disguised.path) is a Parquet file") == true)
        let absent = #expect(throws: ReferenceError.self) { try CSVTable.read(path: "/nonexistent/ref.csv") }
        #expect(absent?.message.hasPrefix("cannot read /nonexistent/ref.csv: ") == true)
    }
}

/// Column equality that treats NaN as equal to NaN (missing values).
func sameColumn(_ a: FeatureColumn, _ b: FeatureColumn) -> Bool {
    switch (a, b) {
    case let (.numerical(x), .numerical(y)):
        x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    case let (.categorical(x), .categorical(y)):
        x == y
    default:
        false
    }
}
