import Foundation

/// Tests/SluiceEvaluationTests/Fixtures/metrics.json, written by scripts/fixtures/gen_metrics.py with scikit-learn.
struct MetricFixture: Decodable {
    struct Case: Decodable {
        var name: String
        var kind: String
        var labels: [Double]
        var scores: [Double]
        /// scikit-learn's value per metric name.
        var expected: [String: Double]
        /// The `MetricError.Code` raw value Sluice must throw, per metric name.
        var errors: [String: String]
    }

    var scikit_learn: String
    var threshold: Double
    var logloss_eps: Double
    var cases: [Case]

    static func load() throws -> MetricFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/metrics.json")
        return try JSONDecoder().decode(MetricFixture.self, from: Data(contentsOf: url))
    }
}
