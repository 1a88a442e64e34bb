import SluiceEvaluation
import Testing

/// Inputs a metric refuses, and the message that says why.
@Suite("metric input errors")
struct MetricErrorTests {
    func error(_ metric: Metric, _ labels: [Double], _ scores: [Double]) -> MetricError? {
        do {
            _ = try metric.evaluate(labels: labels, scores: scores)
            return nil
        } catch {
            return error
        }
    }

    @Test func aucOfOneClassIsAnErrorNotNaN() {
        let error = error(.auc, [1, 1, 1], [0.2, 0.5, 0.9])
        #expect(error?.code == .singleClass)
        #expect(error?.message == "auc is undefined when every label is 1 (3 row(s)); expected rows of both classes, 0 and 1")
    }

    @Test func binaryMetricsNameTheRowWithANonBinaryLabel() {
        for metric in Metric.allCases where metric.isBinary {
            let error = error(metric, [0, 1, 2], [0.1, 0.2, 0.3])
            #expect(error?.code == .notBinary, "\(metric)")
            #expect(error?.row == 2)
            #expect(error?.message.contains("the label of row 3 is 2.0; expected 0 or 1") == true, "\(error?.message ?? "")")
        }
        #expect(error(.rmse, [0, 1, 2], [0.1, 0.2, 0.3]) == nil)
    }

    @Test func loglossRefusesScoresThatAreNotProbabilities() {
        let error = error(.logloss, [0, 1], [0.5, 1.5])
        #expect(error?.code == .invalidScore)
        #expect(error?.message.hasPrefix("logloss needs probabilities: the score of row 2 is 1.5") == true)
    }

    @Test func emptyMismatchedAndNonFiniteInputs() {
        #expect(error(.mae, [], [])?.code == .empty)
        #expect(error(.auc, [0, 1], [0.5])?.code == .lengthMismatch)
        #expect(error(.rmse, [.nan, 1], [0.5, 0.5])?.code == .invalidLabel)
        #expect(error(.auc, [0, 1], [0.5, .infinity])?.code == .invalidScore)
    }

    @Test func confusionCountsAtTheThreshold() throws {
        let counts = try Metrics.confusion(labels: [1, 0, 1, 0], scores: [0.5, 0.5, 0.51, 0.9])
        #expect(counts == ConfusionCounts(truePositives: 1, falsePositives: 1, trueNegatives: 1, falseNegatives: 1))
    }
}
