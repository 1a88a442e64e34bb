import Foundation
import SluiceFeatureStore
import SluiceMonitoring
import SluiceWorker
import Testing

@Suite("Concept monitor and label decoding")
struct ConceptMonitorTests {
    private func observations(version: Int, errors: [Bool], score: Double = 0.9, startMillis: Int64 = 0) -> [ConceptMonitor.Observation] {
        errors.enumerated().map { i, wrong in
            ConceptMonitor.Observation(modelName: "m", modelVersion: version, label: wrong ? 0 : 1, score: score, eventTimeMillis: startMillis + Int64(i))
        }
    }

    @Test func aJumpInTheErrorRateFiresOnceAndABetterNewVersionResolvesIt() throws {
        var monitor = ConceptMonitor(window: 1_000, reportEvery: 500)
        var random = SystemRandomNumberGenerator()
        // 5 % errors, then 50 %.
        let calm = (0..<3_000).map { _ in Double.random(in: 0..<1, using: &random) < 0.05 }
        let drifted = (0..<3_000).map { _ in Double.random(in: 0..<1, using: &random) < 0.5 }
        let first = monitor.observe(observations(version: 1, errors: calm))
        #expect(first.alerts.isEmpty, "no alert while the error rate is steady")
        #expect(first.performance.count == 6)
        let second = monitor.observe(observations(version: 1, errors: drifted, startMillis: 10_000))
        let fired = second.alerts.filter { $0.state == "firing" }
        #expect(fired.count == 1)
        let alert = try #require(fired.first)
        #expect(alert.kind == "concept_drift" && alert.test == "adwin" && alert.modelVersion == 1 && alert.feature == nil)
        #expect(alert.statistic > alert.threshold, "error after \(alert.statistic) vs before \(alert.threshold)")
        #expect(alert.threshold < 0.15)
        #expect(monitor.isFiring(model: "m", version: 1))
        let message = try JSONDecoder().decode(ConceptAlert.self, from: Data(alert.messageJSON))
        #expect(message.alert_id == alert.alertID && message.state == "firing" && message.kind == "concept_drift")
        // The last performance report covers the drifted window: accuracy near one half.
        let last = try #require(second.performance.last)
        #expect(abs((last.accuracy ?? 0) - 0.5) < 0.08 && last.windowLabels == 1_000 && last.auc == 0.5)
        // Version 2 at 5 % errors: after 200 labels it resolves version 1's alert (same id).
        let third = monitor.observe(observations(version: 2, errors: Array(calm.prefix(Int(ConceptMonitor.supersedeLabels)))))
        #expect(third.alerts.map(\.state) == ["resolved"])
        #expect(third.alerts.first?.alertID == alert.alertID && third.alerts.first?.modelVersion == 1)
        #expect(!monitor.isFiring(model: "m", version: 1))
    }

    @Test func regressionErrorsAreAbsoluteAndReportOnlyMAE() {
        var monitor = ConceptMonitor(window: 100, reportEvery: 100)
        let rows = (0..<100).map { i in ConceptMonitor.Observation(modelName: "r", modelVersion: 3, label: Double(i), score: Double(i) + 2, eventTimeMillis: Int64(i)) }
        let outcome = monitor.observe(rows)
        #expect(outcome.performance.count == 1)
        let report = outcome.performance[0]
        #expect(report.meanAbsoluteError == 2 && report.accuracy == nil && report.logLoss == nil && report.auc == nil)
        #expect(monitor.errorEstimate(model: "r", version: 3) == 2)
    }

    @Test func labelMessagesDecodeOrNameWhatIsWrong() throws {
        let decoder = LabelDecoder(maxPayloadBytes: 200)
        func decode(_ text: String) -> Result<LabelDecoder.Decoded, LabelDecoder.Failure> {
            decoder.decode(ArraySlice(Array(text.utf8)), timestampMillis: 1_000)
        }
        #expect(try decode(#"{"prediction_id": "tx.in-1/3/42", "label": true}"#).get()
                == LabelDecoder.Decoded(key: .prediction(topic: "tx.in-1", partition: 3, offset: 42), label: 1, labelTimeMillis: 1_000))
        #expect(try decode(#"{"event_id": "e-9", "label": 0.25, "label_time": "2026-11-23T10:00:00.5Z"}"#).get()
                == LabelDecoder.Decoded(key: .event("e-9"), label: 0.25, labelTimeMillis: 1_795_428_000_500))
        #expect(try decode(#"{"event_id": "e-9", "label": 0, "label_time": 1795428000500}"#).get().labelTimeMillis == 1_795_428_000_500)
        let cases: [(String, LabelDecoder.Reason)] = [
            ("[1]", .invalidJSON), ("{", .invalidJSON), (#"{"label": 1}"#, .missingField), (#"{"event_id": "e"}"#, .missingField),
            (#"{"prediction_id": "a/b/c", "label": 1}"#, .invalidPredictionID), (#"{"prediction_id": "a/-1/3", "label": 1}"#, .invalidPredictionID),
            (#"{"event_id": "e", "label": "1"}"#, .invalidLabel), (#"{"event_id": "e", "label": null}"#, .missingField), (#"{"event_id": "e", "label": [1]}"#, .invalidLabel),
            (#"{"event_id": "e", "label": 1, "label_time": "soon"}"#, .invalidTimestamp), (#"{"event_id": "e", "label": 1, "label_time": 1.5}"#, .invalidTimestamp),
            (String(repeating: " ", count: 201), .oversized),
        ]
        for (text, reason) in cases {
            switch decode(text) {
            case .success(let decoded): Issue.record("\(text) decoded as \(decoded)")
            case .failure(let failure):
                #expect(failure.reason == reason, "\(text)")
                #expect(failure.description.contains("expected") || reason == .oversized, "\(failure.description)")
            }
        }
    }
}
