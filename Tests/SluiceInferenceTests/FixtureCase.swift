import Foundation
import SluiceInference

/// One `<name>.cases.json` fixture written by scripts/fixtures/gen_models.py.
struct FixtureCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("models")

    let name: String
    let modelData: Data
    let format: String
    let featureNames: [String]
    let outputCount: Int
    let marginCount: Int
    let rows: [[Double]]
    let predictions: [[Double]]
    let margins: [[Double]]
    let contributions: [[Double]]
    /// XGBoost's `approx_contribs=True` output (XGBoost fixtures only).
    let approxContributions: [[Double]]?

    var flatRows: [Double] { rows.flatMap { $0 } }

    /// The cases file; `null` numbers (NaN) decode as nil. JSONDecoder parses numbers exactly.
    private struct Document: Decodable {
        var model: String
        var format: String
        var feature_names: [String]
        var output_count: Int
        var margin_count: Int
        var rows: [[Double?]]
        var predictions: [[Double?]]
        var margins: [[Double?]]
        var contributions: [[Double?]]
        var approx_contributions: [[Double?]]?
    }

    init(_ name: String) throws {
        self.name = name
        let url = Self.directory.appendingPathComponent("\(name).cases.json")
        let doc = try JSONDecoder().decode(Document.self, from: Data(contentsOf: url))
        modelData = try Data(contentsOf: Self.directory.appendingPathComponent(doc.model))
        format = doc.format
        featureNames = doc.feature_names
        outputCount = doc.output_count
        marginCount = doc.margin_count
        func matrix(_ m: [[Double?]]) -> [[Double]] { m.map { row in row.map { $0 ?? .nan } } }
        rows = matrix(doc.rows)
        predictions = matrix(doc.predictions)
        margins = matrix(doc.margins)
        contributions = matrix(doc.contributions)
        approxContributions = doc.approx_contributions.map(matrix)
    }

    func load() throws -> LoadedModel {
        try ModelLoader.load(data: modelData)
    }

    static func data(_ file: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(file))
    }
}
