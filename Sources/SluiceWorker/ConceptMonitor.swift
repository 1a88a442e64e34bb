import Foundation
import SluiceFeatureStore
import SluiceFeatures
import SluiceMonitoring

/// Concept drift and rolling performance from labelled predictions, per model version.
///
/// Each labelled prediction gives an error: for a binary classifier (labels 0/1, scores in [0, 1]) whether the
/// predicted class (score ≥ 0.5) missed the label, otherwise |label − score|. ADWIN (River's defaults) watches
/// the error stream; when it detects a change and the recent error is higher than the level before, a
/// `concept_drift` alert fires; a later change back down resolves it. Every `reportEvery` labels the version's
/// accuracy, log-loss, MAE and ROC AUC over its last `window` labels become a performance report.
package struct ConceptMonitor: Sendable {
    /// One labelled prediction.
    package struct Observation: Sendable {
        package var modelName: String
        package var modelVersion: Int
        package var label: Double
        package var score: Double
        package var eventTimeMillis: Int64

        package init(modelName: String, modelVersion: Int, label: Double, score: Double, eventTimeMillis: Int64) {
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.label = label
            self.score = score
            self.eventTimeMillis = eventTimeMillis
        }
    }

    /// What a set of observations changed.
    package struct Outcome: Sendable {
        /// Concept-drift alert state changes, as stored in `drift_alerts` (the message is the alert-topic value).
        package var alerts: [FeatureStoreBatch.DriftAlertWrite] = []
        package var performance: [LabelStore.PerformanceWrite] = []
    }

    private struct Version: Sendable {
        var adwin = ADWIN()
        var performance: RollingPerformance
        var labelled: Int64 = 0
        var sinceReport = 0
        var binary = true
        /// The firing alert: its id, severity and the error level that fired it.
        var firing: (id: String, severity: String, level: Double)?
        /// Event times of the latest labels (a ring as long as the performance window) for the alert's window.
        var times: [Int64] = []
        var next = 0
    }

    private struct Key: Hashable, Sendable {
        var name: String
        var version: Int
    }

    package let window: Int
    package let reportEvery: Int
    private var versions: [Key: Version] = [:]

    /// - Parameters:
    ///   - window: labelled predictions the rolling metrics cover (default 10,000).
    ///   - reportEvery: labels between two performance reports of a version (default 1,000).
    package init(window: Int = 10_000, reportEvery: Int = 1_000) {
        self.window = max(1, window)
        self.reportEvery = max(1, reportEvery)
    }

    /// Whether a concept-drift alert is firing for the model version.
    package func isFiring(model: String, version: Int) -> Bool { versions[Key(name: model, version: version)]?.firing != nil }

    /// The error estimate (ADWIN's window mean) of a version, nil before its first label.
    package func errorEstimate(model: String, version: Int) -> Double? {
        versions[Key(name: model, version: version)].map { $0.adwin.estimation }
    }

    /// Feeds labelled predictions in the order they were joined.
    package mutating func observe(_ observations: [Observation]) -> Outcome {
        var outcome = Outcome()
        for o in observations where o.label.isFinite && o.score.isFinite {
            let key = Key(name: o.modelName, version: o.modelVersion)
            var v = versions[key] ?? Version(performance: RollingPerformance(window: window))
            v.binary = v.binary && (o.label == 0 || o.label == 1) && (0...1).contains(o.score)
            let error = v.binary ? ((o.score >= 0.5) == (o.label == 1) ? 0 : 1) : abs(o.label - o.score)
            if v.times.count < window { v.times.append(o.eventTimeMillis) } else { v.times[v.next] = o.eventTimeMillis }
            v.next = (v.next + 1) % window
            let before = v.adwin.estimation
            let widthBefore = v.adwin.width
            if v.adwin.update(error) {
                let after = v.adwin.estimation
                if after > before, v.firing == nil, widthBefore >= 30 {
                    let severity = Self.severity(before: before, after: after)
                    let id = UUID().uuidString.lowercased()
                    v.firing = (id, severity, after)
                    outcome.alerts.append(alert(id: id, state: "firing", severity: severity, key: key, v, before: before, after: after))
                } else if after < before, let firing = v.firing {
                    v.firing = nil
                    outcome.alerts.append(alert(id: firing.id, state: "resolved", severity: firing.severity, key: key, v, before: before, after: after))
                }
            }
            v.performance.add(label: o.label, score: o.score)
            v.labelled += 1
            v.sinceReport += 1
            if v.sinceReport >= reportEvery, let m = v.performance.metrics() {
                v.sinceReport = 0
                outcome.performance.append(LabelStore.PerformanceWrite(
                    modelName: key.name, modelVersion: Int32(key.version), labelled: v.labelled, windowLabels: Int32(m.count),
                    accuracy: v.binary ? m.accuracy : nil, logLoss: v.binary ? m.logLoss : nil, meanAbsoluteError: m.meanAbsoluteError,
                    auc: v.binary ? m.auc : nil, errorEstimate: v.adwin.estimation))
            }
            versions[key] = v
            resolveSuperseded(by: key, &outcome)
        }
        return outcome
    }

    /// A firing alert of an older version resolves once a newer version of the model has `supersedeLabels` labels
    /// and a lower error than the drifted version (the level that fired it, or its estimate since if higher): the
    /// retrained model fixed what drifted.
    private mutating func resolveSuperseded(by key: Key, _ outcome: inout Outcome) {
        guard let newer = versions[key], newer.labelled >= Self.supersedeLabels else { return }
        for (old, var v) in versions where old.name == key.name && old.version < key.version {
            // The drifted version's error: what fired it, or its current estimate if that has grown since.
            guard let firing = v.firing, newer.adwin.estimation < max(firing.level, v.adwin.estimation) else { continue }
            v.firing = nil
            versions[old] = v
            outcome.alerts.append(alert(id: firing.id, state: "resolved", severity: firing.severity, key: old, v,
                                        before: max(firing.level, v.adwin.estimation), after: newer.adwin.estimation))
        }
    }

    /// Labels a newer version needs before it can resolve an older version's alert.
    package static let supersedeLabels: Int64 = 200

    /// minor below a doubling of the error, major from a doubling, critical from four times (floor 1 %).
    static func severity(before: Double, after: Double) -> String {
        let ratio = after / max(before, 0.01)
        return ratio >= 4 ? "critical" : ratio >= 2 ? "major" : "minor"
    }

    /// The alert, with `{…, test: "adwin", statistic: recent error, threshold: error before the change,
    /// window: {start, end, events}, reference: {source: "labels", events}}` as its message.
    private func alert(id: String, state: String, severity: String, key: Key, _ v: Version, before: Double, after: Double) -> FeatureStoreBatch.DriftAlertWrite {
        let events = Int(v.adwin.width)
        // The event-time span of the labels in ADWIN's window (labels arrive in any event-time order).
        let held = v.times.count
        var oldest = Int64.max, newest = Int64.min
        for k in 1...min(max(events, 1), held) {
            let t = v.times[(v.next - k + held) % held]
            oldest = min(oldest, t)
            newest = max(newest, t)
        }
        var w = JSONOutputWriter()
        w.beginObject()
        w.key("alert_id"); w.string(id)
        w.key("kind"); w.string("concept_drift")
        w.key("state"); w.string(state)
        w.key("severity"); w.string(severity)
        w.key("model"); w.beginObject(); w.key("name"); w.string(key.name); w.key("version"); w.int(Int64(key.version)); w.endObject()
        w.key("test"); w.string("adwin")
        w.key("statistic"); w.double(after)
        w.key("threshold"); w.double(before)
        w.key("window"); w.beginObject()
        w.key("start"); w.timestamp(millis: oldest)
        w.key("end"); w.timestamp(millis: newest)
        w.key("events"); w.int(Int64(events))
        w.endObject()
        w.key("reference"); w.beginObject(); w.key("source"); w.string("labels"); w.key("events"); w.int(v.labelled); w.endObject()
        w.endObject()
        return FeatureStoreBatch.DriftAlertWrite(
            alertID: id, kind: "concept_drift", state: state, severity: severity, modelName: key.name, modelVersion: Int32(key.version),
            feature: nil, test: "adwin", statistic: after, threshold: before, pValue: nil, windowStartMillis: oldest, windowEndMillis: newest,
            windowEvents: Int64(events), messageJSON: w.bytes)
    }
}
