/// Page–Hinkley concept-drift detector with River's defaults and semantics
/// (`river.drift.PageHinkley`).
///
/// Keeps the running mean x̄ and two fading cumulative sums of deviations,
/// S⁺ = α·S⁺ + (x − x̄ − δ) and S⁻ = α·S⁻ + (x − x̄ + δ), with their running
/// minimum/maximum (the maximum of S⁻ starts at −1, as in River). Once at least
/// `minInstances` values were seen, drift is S⁺ − min S⁺ > λ (mode up),
/// max S⁻ − S⁻ > λ (mode down) or either (both). The update after a detection
/// starts afresh.
package struct PageHinkley: Sendable {
    /// Which direction of mean change to detect.
    package enum Mode: String, Sendable, Codable {
        case up, down, both
    }

    package let minInstances: Int
    package let delta: Double
    package let threshold: Double
    package let alpha: Double
    package let mode: Mode

    private var n = 0.0
    private var mean = 0.0
    private var sumIncrease = 0.0
    private var sumDecrease = 0.0
    private var minIncrease = Double.infinity
    private var maxDecrease = -1.0
    /// Whether the last update detected drift.
    package private(set) var driftDetected = false

    /// Creates a detector; parameters default to River's.
    package init(minInstances: Int = 30, delta: Double = 0.005, threshold: Double = 50, alpha: Double = 1 - 0.0001, mode: Mode = .both) {
        self.minInstances = minInstances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
    }

    private mutating func reset() {
        n = 0
        mean = 0
        sumIncrease = 0
        sumDecrease = 0
        minIncrease = .infinity
        maxDecrease = -1
        driftDetected = false
    }

    /// Feeds one value; returns whether drift was detected at this value.
    /// Non-finite values are ignored.
    @discardableResult
    package mutating func update(_ x: Double) -> Bool {
        guard x.isFinite else { return false }
        if driftDetected { reset() }
        n += 1
        mean += (1 / n) * (x - mean)
        let deviation = x - mean
        sumIncrease = alpha * sumIncrease + deviation - delta
        sumDecrease = alpha * sumDecrease + deviation + delta
        if sumIncrease < minIncrease { minIncrease = sumIncrease }
        if sumDecrease > maxDecrease { maxDecrease = sumDecrease }
        if n >= Double(minInstances) {
            let up = sumIncrease - minIncrease
            let down = maxDecrease - sumDecrease
            switch mode {
            case .up: driftDetected = up > threshold
            case .down: driftDetected = down > threshold
            case .both: driftDetected = up > threshold || down > threshold
            }
        }
        return driftDetected
    }
}
