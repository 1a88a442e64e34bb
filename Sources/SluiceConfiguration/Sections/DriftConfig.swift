/// `drift:` — sliding windows compared with the model's reference profile.
package struct DriftConfig: Hashable, Sendable {
    /// `window`: the live window, by event count or by event time.
    package enum Window: Hashable, Sendable {
        /// `kind: count`, `size: N` events.
        case count(events: Int)
        /// `kind: time`, `duration: D`.
        case time(Duration)
    }

    /// `step`: how far the window slides between evaluations.
    package enum Step: Hashable, Sendable {
        /// Every N events (count windows).
        case events(Int)
        /// Every D of event time (time windows).
        case duration(Duration)
    }

    /// `window.kind`.
    package enum WindowKind: String, CaseIterable, Hashable, Sendable {
        case count, time
    }

    /// Tests selectable per feature in `overrides`.
    package enum Test: String, CaseIterable, Hashable, Sendable {
        case ks, chisquare, ztest, wasserstein, jensenshannon, psi
    }

    /// `overrides.<feature>`: the test and threshold used for one feature instead of the defaults.
    package struct Override: Hashable, Sendable {
        /// `test`.
        package var test: Test
        /// `threshold`.
        package var threshold: Double

        /// Creates an override.
        package init(test: Test, threshold: Double) {
            self.test = test
            self.threshold = threshold
        }
    }

    /// `enabled`.
    package var enabled: Bool = true
    /// `window`.
    package var window: Window = .count(events: 100_000)
    /// `step`.
    package var step: Step = .events(10_000)
    /// `reference_events`: events kept in a reference profile built from live data.
    package var referenceEvents: Int = 10_000
    /// `alert.consecutive`: drifted evaluations in a row before an alert fires.
    package var alertConsecutive: Int = 3
    /// `alert.cooldown`: quiet time after an alert before the same alert may fire again.
    package var alertCooldown: Duration = .seconds(900)
    /// `dataset_share`: share of drifted features that makes the whole dataset drifted.
    package var datasetShare: Double = 0.5
    /// `overrides`: per-feature test and threshold.
    package var overrides: [String: Override] = [:]

    /// All defaults.
    package init() {}

    static let stepParser = ValueParser<Step>(expected: "a number of events (e.g. 10000) or a duration (e.g. 5m)") { text in
        if let events = ValueParser<Int>.parseInteger(text) {
            return events >= 1 ? .success(.events(events)) : .failure(ValueIssue("\(events) is out of range; expected at least 1 event"))
        }
        switch DurationFormat.parse(text) {
        case .success(let duration) where duration > .zero: return .success(.duration(duration))
        case .success: return .failure(ValueIssue("'\(text)' is out of range; expected a duration greater than 0s"))
        case .failure:
            return .failure(ValueIssue("'\(text)' is neither a number of events nor a duration; expected e.g. 10000 or 5m"))
        }
    }

    static func decode(_ m: MappingReader) -> DriftConfig {
        var c = DriftConfig()
        c.enabled = m.value("enabled", default: c.enabled, .bool)

        let w = m.section("window")
        let kind = w.value("kind", default: WindowKind.count, .oneOf(WindowKind.self))
        let size = w.read("size", .integer(1...100_000_000))
        let duration = w.read("duration", .duration(.seconds(1)...Duration.seconds(90 * 86_400)))
        switch kind {
        case .count:
            if duration.isSet {
                m.decoder.report(.invalidValue, at: w.path.key("duration"), node: w.entry("duration"),
                                 "'duration' applies to time windows; with kind count set 'size' (events), or set kind: time")
            }
            c.window = .count(events: size.value ?? 100_000)
        case .time:
            if size.isSet {
                m.decoder.report(.invalidValue, at: w.path.key("size"), node: w.entry("size"),
                                 "'size' applies to count windows; with kind time set 'duration', or set kind: count")
            }
            if case .unset = duration {
                w.reportMissing("duration", expected: DurationFormat.expected, reason: "drift.window.kind is time")
            }
            c.window = .time(duration.value ?? .seconds(3600))
        }
        w.finish()

        let stepPath = m.path.key("step")
        switch (m.read("step", stepParser), c.window) {
        case (.unset, .count(let events)):
            c.step = .events(max(1, events / 10))
        case (.unset, .time(let length)):
            c.step = .duration(.milliseconds(max(1, DurationFormat.milliseconds(of: length) / 10)))
        case (.value(.events(let events)), .count(let size)):
            if events > size {
                m.decoder.report(.invalidValue, at: stepPath, node: m.entry("step"),
                                 "step \(events) is larger than the window (\(size) events); expected at most the window size")
            }
            c.step = .events(events)
        case (.value(.duration(let step)), .time(let length)):
            if step > length {
                m.decoder.report(.invalidValue, at: stepPath, node: m.entry("step"),
                                 "step \(DurationFormat.format(step)) is longer than the window (\(DurationFormat.format(length))); expected at most the window duration")
            }
            c.step = .duration(step)
        case (.value(.events), .time):
            m.decoder.report(.invalidValue, at: stepPath, node: m.entry("step"),
                             "a time window slides by a duration; expected e.g. 5m, not a number of events")
        case (.value(.duration), .count):
            m.decoder.report(.invalidValue, at: stepPath, node: m.entry("step"),
                             "a count window slides by a number of events; expected e.g. 10000, not a duration")
        case (.invalid, _):
            break
        }

        c.referenceEvents = m.value("reference_events", default: c.referenceEvents, .integer(10...100_000_000))
        let alert = m.section("alert")
        c.alertConsecutive = alert.value("consecutive", default: c.alertConsecutive, .integer(1...1000))
        c.alertCooldown = alert.value("cooldown", default: c.alertCooldown, .nonNegativeDuration)
        alert.finish()
        c.datasetShare = m.value("dataset_share", default: c.datasetShare, .number(0...1))
        c.overrides = decodeOverrides(m)
        return c
    }

    /// `overrides` from the file, then `SLUICE_DRIFT_OVERRIDE_<feature>=<test>:<threshold>` variables.
    private static func decodeOverrides(_ m: MappingReader) -> [String: Override] {
        var overrides: [String: Override] = [:]
        let (path, entries) = m.mapEntries("overrides")
        for entry in entries {
            let o = MappingReader(decoder: m.decoder, path: path.entry(entry.key), node: entry.value)
            if !o.isPresent {
                m.decoder.report(.invalidValue, at: o.path, node: entry.value, "expected a mapping {test: …, threshold: …}, found null")
                continue
            }
            let test = o.required("test", placeholder: Test.ks, .oneOf(Test.self))
            let threshold = o.required("threshold", placeholder: Double.nan, .positiveNumber)
            o.finish()
            if !threshold.isNaN {
                overrides[entry.key] = Override(test: test, threshold: threshold)
            }
        }
        for variable in m.decoder.variables(withPrefix: "SLUICE_DRIFT_OVERRIDE_") {
            let parts = variable.value.split(separator: ":", maxSplits: 1).map(String.init)
            let entryPath = path.entry(variable.suffix)
            guard parts.count == 2 else {
                m.decoder.report(.invalidValue, at: entryPath, variable: variable.name,
                                 "'\(variable.value)' is not an override; expected TEST:THRESHOLD, e.g. psi:0.2")
                continue
            }
            switch (ValueParser.oneOf(Test.self).parse(parts[0]), ValueParser<Double>.positiveNumber.parse(parts[1])) {
            case (.success(let test), .success(let threshold)):
                overrides[variable.suffix] = Override(test: test, threshold: threshold)
            case (.failure(let issue), _), (_, .failure(let issue)):
                m.decoder.report(.invalidValue, at: entryPath, variable: variable.name, issue.message)
            }
        }
        return overrides
    }
}
