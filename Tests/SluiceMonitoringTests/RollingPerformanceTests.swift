import Foundation
import Testing
@testable import SluiceMonitoring

private struct RollingFile: Decodable {
    struct Checkpoint: Decodable { var index: Int; var accuracy: Double; var log_loss: Double; var mae: Double; var auc: Double? }
    var window: Int
    var labels: [Double]
    var scores: [Double]
    var checkpoints: [Checkpoint]
}

@Suite struct RollingPerformanceTests {
    @Test func rollingMetricsMatchNumpyAndScipyRankAUC() throws {
        let file = try FixtureSupport.load(RollingFile.self, "rolling.json")
        var rolling = RollingPerformance(window: file.window)
        var byIndex: [Int: RollingPerformance.Metrics] = [:]
        for i in file.labels.indices {
            rolling.add(label: file.labels[i], score: file.scores[i])
            if file.checkpoints.contains(where: { $0.index == i }) { byIndex[i] = rolling.metrics() }
        }
        for c in file.checkpoints {
            let m = try #require(byIndex[c.index])
            #expect(m.count == min(c.index + 1, file.window))
            #expect(FixtureSupport.relativelyClose(m.accuracy, c.accuracy, 1e-12), "accuracy at \(c.index)")
            #expect(FixtureSupport.relativelyClose(m.logLoss, c.log_loss, 1e-9), "log-loss at \(c.index)")
            #expect(FixtureSupport.relativelyClose(m.meanAbsoluteError, c.mae, 1e-9), "MAE at \(c.index)")
            #expect(m.auc.map { FixtureSupport.relativelyClose($0, c.auc ?? .nan, 1e-12) } ?? (c.auc == nil), "AUC at \(c.index)")
        }
    }

    @Test func aucIsNilWithOneClass() {
        var rolling = RollingPerformance(window: 10)
        for _ in 0..<5 { rolling.add(label: 1, score: 0.7) }
        #expect(rolling.metrics()?.auc == nil)
        #expect(rolling.metrics()?.accuracy == 1)
    }
}
