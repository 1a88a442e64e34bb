import Foundation
import SluiceEvaluation
import Testing

/// Every metric against scikit-learn 1.9 on the cases of Fixtures/metrics.json.
///
/// The tolerance is 1e-12 absolute for every metric. AUC is exact here (an integer statistic and one division) while
/// scikit-learn integrates the ROC curve with the trapezoidal rule, so the two may differ in the last bit or two;
/// the means are numpy's pairwise sums, reproduced exactly, so those agree to the bit on this machine, and the
/// tolerance only absorbs a libm `log` that rounds differently from the one numpy was built with.
@Suite("metrics match scikit-learn")
struct MetricParityTests {
    static let tolerance = 1e-12

    @Test func fixtureWasGeneratedWithTheDocumentedConstants() throws {
        let fixture = try MetricFixture.load()
        #expect(fixture.threshold == Metrics.threshold)
        #expect(fixture.logloss_eps == Metrics.logLossEpsilon)
        #expect(fixture.cases.count >= 10)
    }

    @Test(arguments: try MetricFixture.load().cases.map(\.name))
    func metricsAgreeWithScikitLearn(caseName: String) throws {
        let fixture = try MetricFixture.load()
        let testCase = try #require(fixture.cases.first { $0.name == caseName })
        for (name, expected) in testCase.expected.sorted(by: { $0.key < $1.key }) {
            let metric = try #require(Metric(rawValue: name), "fixture metric \(name)")
            let value = try metric.evaluate(labels: testCase.labels, scores: testCase.scores)
            #expect(abs(value - expected) <= Self.tolerance, "\(caseName) \(name): sluice \(value), scikit-learn \(expected)")
        }
        for (name, code) in testCase.errors {
            let metric = try #require(Metric(rawValue: name), "fixture metric \(name)")
            #expect(throws: MetricError.self, "\(caseName) \(name)") {
                try metric.evaluate(labels: testCase.labels, scores: testCase.scores)
            }
            do {
                _ = try metric.evaluate(labels: testCase.labels, scores: testCase.scores)
            } catch {
                #expect(error.code.rawValue == code, "\(caseName) \(name): \(error.message)")
            }
        }
    }

    @Test func pairwiseSumMatchesNumpyBlocking() {
        // 0.1 added 1,000 times: a running sum drifts to 99.9999999999986; numpy's pairwise sum gives 100.00000000000001
        // (np.sum(np.full(1000, 0.1))), which the 8-way blocks reproduce.
        let values = [Double](repeating: 0.1, count: 1000)
        #expect(Metrics.pairwiseSum(values) == 100.00000000000001)
        #expect(Metrics.pairwiseSum([]) == 0)
        #expect(Metrics.pairwiseSum([1, 2, 3]) == 6)
    }
}
