/// The alert state machine: pure, no IO.
///
/// Per key it fires after `consecutive` drifted evaluations in a row and
/// resolves after `consecutive` clear ones in a row while firing. A fire is not
/// re-sent within `cooldown` seconds of the previous fire for the same key: a
/// streak that completes inside the cooldown fires at its first drifted
/// evaluation after the cooldown ends. The fire carries the highest severity
/// seen during the streak.
package struct AlertPolicy: Sendable {
    private struct State: Sendable {
        var driftStreak = 0
        var clearStreak = 0
        var firing = false
        var lastFired: Double?
        var streakSeverity = AlertSeverity.minor
    }

    package let consecutive: Int
    package let cooldown: Double
    private var states: [AlertKey: State] = [:]

    /// - Parameters:
    ///   - consecutive: evaluations in a row needed to fire and to resolve (≥ 1, default 3).
    ///   - cooldown: seconds during which a key does not fire again (default 3600).
    package init(consecutive: Int = 3, cooldown: Double = 3600) {
        self.consecutive = max(1, consecutive)
        self.cooldown = cooldown
    }

    /// Whether `key` is currently firing.
    package func isFiring(_ key: AlertKey) -> Bool { states[key]?.firing ?? false }

    /// Feeds one evaluation result at `time` (seconds) and returns the action, if any.
    package mutating func observe(_ key: AlertKey, result: DriftTestResult, at time: Double) -> AlertAction? {
        var s = states[key] ?? State()
        defer { states[key] = s }
        if result.drifted {
            if s.driftStreak == 0 { s.streakSeverity = .minor }
            s.driftStreak += 1
            s.clearStreak = 0
            s.streakSeverity = max(s.streakSeverity, AlertSeverity.of(result))
            guard !s.firing, s.driftStreak >= consecutive else { return nil }
            if let last = s.lastFired, time - last < cooldown { return nil }
            s.firing = true
            s.lastFired = time
            return .fire(key: key, severity: s.streakSeverity, result: result, time: time)
        }
        s.clearStreak += 1
        s.driftStreak = 0
        guard s.firing, s.clearStreak >= consecutive else { return nil }
        s.firing = false
        return .resolve(key: key, result: result, time: time)
    }

    /// Feeds every feature result of a window evaluation for `model`.
    package mutating func observe(_ evaluation: WindowEvaluation, model: String, at time: Double) -> [AlertAction] {
        var actions: [AlertAction] = []
        for f in evaluation.features {
            if let a = observe(AlertKey(model: model, feature: f.feature, test: f.result.test), result: f.result, at: time) {
                actions.append(a)
            }
        }
        return actions
    }
}
