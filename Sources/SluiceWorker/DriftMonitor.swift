import Foundation
import SluiceConfiguration
import SluiceFeatures
import SluiceMonitoring

/// The `drift:` section turned into the monitor's parts.
package struct DriftSettings: Sendable {
    package let enabled: Bool
    package let policy: WindowPolicy
    package let referenceEvents: Int
    package let configuration: DriftConfiguration
    package let consecutive: Int
    package let cooldownSeconds: Double

    /// - Throws: `WorkerError` when the window is not a whole number of steps.
    package init(_ drift: DriftConfig) throws {
        enabled = drift.enabled
        switch (drift.window, drift.step) {
        case (.count(let events), .events(let step)):
            guard events % step == 0 else {
                throw WorkerError(message: "drift: the window (\(events) events) must be a whole number of steps (\(step) events): the window slides by one step-sized sub-window")
            }
            policy = .count(events: events, subwindows: events / step)
        case (.time(let length), .duration(let step)):
            let lengthMillis = WorkerSetup.millis(length), stepMillis = WorkerSetup.millis(step)
            guard stepMillis > 0, lengthMillis % stepMillis == 0 else {
                throw WorkerError(message: "drift: the window (\(lengthMillis) ms) must be a whole number of steps (\(stepMillis) ms)")
            }
            policy = .time(seconds: Double(lengthMillis) / 1_000, subwindows: Int(lengthMillis / stepMillis))
        default:
            throw WorkerError(message: "drift: a count window slides by events and a time window by a duration")
        }
        referenceEvents = drift.referenceEvents
        var overrides: [String: FeatureDriftOverride] = [:]
        for (feature, override) in drift.overrides {
            overrides[feature] = FeatureDriftOverride(test: Self.test(override.test), threshold: override.threshold)
        }
        guard drift.datasetShare > 0 else {
            throw WorkerError(message: "drift.dataset_share is 0: every evaluation would be a dataset drift; expected a share in (0, 1]")
        }
        configuration = DriftConfiguration(overrides: overrides, driftShare: drift.datasetShare)
        consecutive = drift.alertConsecutive
        cooldownSeconds = Double(WorkerSetup.millis(drift.alertCooldown)) / 1_000
    }

    static func test(_ test: DriftConfig.Test) -> DriftTest {
        switch test {
        case .ks: .kolmogorovSmirnov
        case .chisquare: .chiSquare
        case .ztest: .zTest
        case .wasserstein: .wasserstein
        case .jensenshannon: .jensenShannon
        case .psi: .psi
        }
    }
}

/// One evaluation of the live window, as stored in `drift_reports`.
package struct DriftReport: Sendable {
    package var modelName: String
    package var modelVersion: Int
    package var windowStartMillis: Int64?
    package var windowEndMillis: Int64?
    package var evaluation: WindowEvaluation
    package var referenceSource: String
    package var referenceEvents: Int
}

/// An alert state change, as published to the drift-alerts topic and stored in `drift_alerts`.
package struct DriftAlert: Sendable {
    package var alertID: String
    package var kind: String
    package var state: String
    package var severity: String
    package var modelName: String
    package var modelVersion: Int
    package var feature: String?
    package var result: DriftTestResult
    package var windowStartMillis: Int64?
    package var windowEndMillis: Int64?
    package var windowEvents: Int
    /// The message in the contract of DESIGN.md.
    package var message: [UInt8]
}

/// What one micro-batch did to the monitor.
package struct DriftOutcome: Sendable {
    package var reports: [DriftReport] = []
    package var alerts: [DriftAlert] = []
    /// A reference profile just built from live events, to store with the model version.
    package var reference: ReferenceProfile?
    /// Problems with the reference met while starting the window (logged by the worker).
    package var warnings: [String] = []
}

/// Watches every pipeline feature and the production model's score in a sliding window against the model
/// version's reference profile, evaluates it every step with Evidently's test selection, and turns persistent
/// drift into firing and resolved alerts.
///
/// The reference is the one registered with the version (`sluice models register --reference`) or, without
/// one, a profile of the first `drift.reference_events` events that version scored. A new model version starts
/// a new reference, window and alert state. The window lives in memory: after a restart it fills again.
/// Alert timing (consecutive evaluations, cooldown) runs on event time, so replays decide the same way.
package struct DriftMonitor: Sendable {
    /// Where a profile column's value comes from.
    enum Source {
        case number(Int)
        case string(Int)
        case score
        /// A profile column the pipeline does not produce: always missing.
        case missing
    }

    let settings: DriftSettings
    let featureNames: [String]
    /// For each pipeline feature, its index among the string features, or nil when it is numeric.
    let stringSlot: [Int?]

    private var model: (name: String, version: Int)?
    private var collected: [[Double]] = []
    private var collectedStrings: [[String?]] = []
    private var collectedScores: [Double] = []
    private var window: SlidingWindow?
    private var sources: [Source] = []
    private var warnings: [String] = []
    private var alertPolicy: AlertPolicy
    private var values: [Double] = []
    /// Event time (ms) at which each sub-window of a count window began, oldest first.
    private var subwindowStarts: [Int64] = []
    private var eventsInOpenSubwindow = 0
    private var firing: [AlertKey: (id: String, severity: AlertSeverity)] = [:]

    package init(settings: DriftSettings, featureNames: [String], stringFeatures: [Bool]) {
        self.settings = settings
        self.featureNames = featureNames
        var slot = 0
        self.stringSlot = stringFeatures.map { isString in
            guard isString else { return nil }
            defer { slot += 1 }
            return slot
        }
        self.alertPolicy = AlertPolicy(consecutive: settings.consecutive, cooldown: settings.cooldownSeconds)
    }

    /// The profile the window compares against, once there is one.
    package var profile: ReferenceProfile? { window?.profile }

    /// Feeds a scored micro-batch (`rows`: numeric feature values, `featureNames.count` per event; `strings`:
    /// the string features' values per event; `scores`: one per event).
    package mutating func observe(model scoring: ScoringModel, reference: ReferenceProfile?, rows: [Double], strings: [String?],
                          scores: [Double], eventTimes: [Int64]) -> DriftOutcome {
        var outcome = DriftOutcome()
        guard settings.enabled, !scores.isEmpty else { return outcome }
        if model?.name != scoring.name || model?.version != scoring.version {
            start(model: scoring, reference: reference)
            outcome.warnings = warnings
            warnings = []
        }
        let width = featureNames.count
        let stringWidth = stringSlot.compactMap { $0 }.count
        var index = 0
        if window == nil {
            while index < scores.count, collectedScores.count < settings.referenceEvents {
                for f in 0..<width {
                    if let slot = stringSlot[f] { collectedStrings[f].append(strings[index * stringWidth + slot]) } else { collected[f].append(rows[index * width + f]) }
                }
                collectedScores.append(scores[index])
                index += 1
            }
            guard collectedScores.count >= settings.referenceEvents else { return outcome }
            var columns: [(name: String, values: FeatureColumn)] = []
            for f in 0..<width {
                columns.append((featureNames[f], stringSlot[f] != nil ? .categorical(collectedStrings[f]) : .numerical(collected[f])))
            }
            columns.append(("score", .numerical(collectedScores)))
            let built = ReferenceProfile.build(source: "live: first \(collectedScores.count) events scored by \(scoring.name) v\(scoring.version)", columns: columns)
            collected = []
            collectedStrings = []
            collectedScores = []
            makeWindow(built)
            outcome.reference = built
        }
        // Moved out, not copied: with `self.window` still holding its counts, the first `add` would copy the whole
        // window (every sub-window's bins) on each call.
        guard var window = self.window.take() else { return outcome }
        defer { self.window = window }
        while index < scores.count {
            let time = eventTimes[index]
            for (lane, source) in sources.enumerated() {
                switch source {
                case .number(let f): values[lane] = rows[index * width + f]
                case .string(let slot): values[lane] = window.categoryCode(feature: lane, strings[index * stringWidth + slot])
                case .score: values[lane] = scores[index]
                case .missing: values[lane] = .nan
                }
            }
            if case .count = settings.policy {
                if eventsInOpenSubwindow == 0 { subwindowStarts.append(time) }
                eventsInOpenSubwindow += 1
                if eventsInOpenSubwindow == eventsPerSubwindow { eventsInOpenSubwindow = 0 }
            }
            let due = values.withUnsafeBufferPointer { window.add(values: $0, eventTime: Double(time) / 1_000) }
            if due {
                let evaluation = window.evaluate(configuration: settings.configuration)
                evaluated(evaluation, model: scoring, profile: window.profile, at: time, into: &outcome)
            }
            index += 1
        }
        return outcome
    }

    private var eventsPerSubwindow: Int {
        if case .count(let events, let subwindows) = settings.policy { return events / subwindows }
        return 0
    }

    private mutating func start(model scoring: ScoringModel, reference: ReferenceProfile?) {
        model = (scoring.name, scoring.version)
        window = nil
        firing = [:]
        alertPolicy = AlertPolicy(consecutive: settings.consecutive, cooldown: settings.cooldownSeconds)
        subwindowStarts = []
        eventsInOpenSubwindow = 0
        collected = Array(repeating: [], count: featureNames.count)
        collectedStrings = Array(repeating: [], count: featureNames.count)
        collectedScores = []
        if let reference { makeWindow(reference) }
    }

    /// A window over the profile's columns, each fed from the pipeline feature (or score) of the same name;
    /// a profile column the pipeline does not produce is fed as missing.
    private mutating func makeWindow(_ profile: ReferenceProfile) {
        var index: [String: Int] = [:]
        for (i, name) in featureNames.enumerated() where index[name] == nil { index[name] = i }
        sources = profile.features.map { feature in
            if feature.name == "score", index["score"] == nil { return .score }
            guard let f = index[feature.name] else { return .missing }
            if let slot = stringSlot[f] { return .string(slot) }
            return .number(f)
        }
        values = [Double](repeating: .nan, count: profile.features.count)
        let missing = zip(profile.features, sources).filter { if case .missing = $1 { true } else { false } }.map(\.0.name)
        if !missing.isEmpty {
            warnings.append("the reference of \(model.map { "\($0.name) v\($0.version)" } ?? "the model") has columns the pipeline does not produce: \(missing); they are tested as missing values")
        }
        do {
            try settings.configuration.validate(profile: profile)
        } catch {
            // resolve(feature:) skips an override that does not apply to the reference's kind of column.
            warnings.append("drift overrides do not fit the reference \(profile.source): \(error); that override is ignored")
        }
        do {
            window = try SlidingWindow(profile: profile, policy: settings.policy, evaluateEvery: 1)
        } catch {
            // DriftSettings checked the policy; an unusable reference leaves this version unmonitored.
            warnings.append("the reference \(profile.source) cannot be used: \(error); one is built from live events instead")
            window = nil
        }
    }

    private mutating func evaluated(_ evaluation: WindowEvaluation, model scoring: ScoringModel, profile: ReferenceProfile, at time: Int64, into outcome: inout DriftOutcome) {
        let (start, end) = windowBounds(evaluation, at: time)
        outcome.reports.append(DriftReport(modelName: scoring.name, modelVersion: scoring.version, windowStartMillis: start, windowEndMillis: end,
                                           evaluation: evaluation, referenceSource: profile.source, referenceEvents: profile.events))
        for action in alertPolicy.observe(evaluation, model: scoring.name, at: Double(time) / 1_000) {
            let state: String, key: AlertKey, result: DriftTestResult, severity: AlertSeverity, id: String
            switch action {
            case .fire(let k, let s, let r, _):
                key = k; result = r; severity = s; state = "firing"
                id = UUID().uuidString.lowercased()
                firing[k] = (id, s)
            case .resolve(let k, let r, _):
                key = k; result = r; state = "resolved"
                (id, severity) = firing.removeValue(forKey: k) ?? (UUID().uuidString.lowercased(), .minor)
            }
            let kind = key.feature == "score" ? "prediction_drift" : "data_drift"
            var alert = DriftAlert(alertID: id, kind: kind, state: state, severity: severity.rawValue, modelName: scoring.name,
                                   modelVersion: scoring.version, feature: key.feature, result: result, windowStartMillis: start,
                                   windowEndMillis: end, windowEvents: evaluation.events, message: [])
            alert.message = Self.message(alert, reference: profile)
            outcome.alerts.append(alert)
        }
    }

    /// The window's event-time bounds: sub-window starts for count windows, the aligned span for time windows.
    private mutating func windowBounds(_ evaluation: WindowEvaluation, at time: Int64) -> (Int64?, Int64?) {
        switch settings.policy {
        case .count(_, let subwindows):
            // Keep the starts of the sub-windows the window holds (the open one has just closed).
            if subwindowStarts.count > subwindows { subwindowStarts.removeFirst(subwindowStarts.count - subwindows) }
            return (subwindowStarts.first, time)
        case .time:
            return (Int64(evaluation.start * 1_000), Int64(evaluation.end * 1_000))
        }
    }

    /// `{alert_id, kind, state, severity, model: {name, version}, feature?, test, statistic, threshold,
    /// p_value?, window: {start, end, events}, reference: {source, events}}`.
    static func message(_ alert: DriftAlert, reference: ReferenceProfile) -> [UInt8] {
        var w = JSONOutputWriter()
        w.beginObject()
        w.key("alert_id"); w.string(alert.alertID)
        w.key("kind"); w.string(alert.kind)
        w.key("state"); w.string(alert.state)
        w.key("severity"); w.string(alert.severity)
        w.key("model"); w.beginObject(); w.key("name"); w.string(alert.modelName); w.key("version"); w.int(Int64(alert.modelVersion)); w.endObject()
        if let feature = alert.feature { w.key("feature"); w.string(feature) }
        w.key("test"); w.string(alert.result.test.rawValue)
        w.key("statistic"); w.double(alert.result.statistic)
        w.key("threshold"); w.double(alert.result.threshold)
        if let p = alert.result.pValue { w.key("p_value"); w.double(p) }
        w.key("window"); w.beginObject()
        w.key("start"); if let s = alert.windowStartMillis { w.timestamp(millis: s) } else { w.null() }
        w.key("end"); if let e = alert.windowEndMillis { w.timestamp(millis: e) } else { w.null() }
        w.key("events"); w.int(Int64(alert.windowEvents))
        w.endObject()
        w.key("reference"); w.beginObject(); w.key("source"); w.string(reference.source); w.key("events"); w.int(Int64(reference.events)); w.endObject()
        w.endObject()
        return w.bytes
    }

    /// The per-feature results of a report as JSON for `drift_reports.results`.
    static func resultsJSON(_ evaluation: WindowEvaluation) -> [UInt8] {
        var w = JSONOutputWriter()
        w.beginArray()
        for f in evaluation.features {
            w.beginObject()
            w.key("feature"); w.string(f.feature)
            w.key("test"); w.string(f.result.test.rawValue)
            w.key("statistic"); w.double(f.result.statistic)
            w.key("p_value"); if let p = f.result.pValue { w.double(p) } else { w.null() }
            w.key("threshold"); w.double(f.result.threshold)
            w.key("drifted"); w.bool(f.result.drifted)
            w.key("events"); w.int(Int64(f.events))
            w.endObject()
        }
        w.endArray()
        return w.bytes
    }
}
