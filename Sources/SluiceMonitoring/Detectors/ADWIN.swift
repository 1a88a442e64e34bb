#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ADWIN (adaptive windowing) concept-drift detector with River's defaults and
/// detection points (`river.drift.ADWIN`).
///
/// The window is kept as exponential histograms: row r holds up to
/// `maxBuckets` summaries (total, variance) of 2^r values each, newest last; when a
/// row gets one more, its two oldest merge into the next row. Every `clock`
/// updates, once the window is longer than `gracePeriod`, every cut between
/// summaries (oldest to newest) is tested with the Hoeffding/Bernstein bound
/// ε = √(2·m·σ²·δ′) + ⅔·δ′·m, where m = 1/(n₀−L+1) + 1/(n₁−L+1),
/// δ′ = ln(2·ln(W)/δ) and L = `minWindowLength`; on a cut the oldest summary is
/// dropped and the scan restarts. As in River, the update after a detection
/// starts a fresh detector.
package struct ADWIN: Sendable {
    package let delta: Double
    package let clock: Int
    package let maxBuckets: Int
    package let minWindowLength: Int
    package let gracePeriod: Int

    private var totals: [[Double]] = []
    private var variances: [[Double]] = []
    private var fill: [Int] = []
    private var total = 0.0
    private var variance = 0.0
    private var windowWidth = 0.0
    private var tick = 0
    /// Whether the last update detected drift.
    package private(set) var driftDetected = false

    /// Creates a detector; parameters default to River's.
    package init(delta: Double = 0.002, clock: Int = 32, maxBuckets: Int = 5, minWindowLength: Int = 5, gracePeriod: Int = 10) {
        self.delta = delta
        self.clock = clock
        self.maxBuckets = maxBuckets
        self.minWindowLength = minWindowLength
        self.gracePeriod = gracePeriod
        reset()
    }

    /// Number of values in the adaptive window.
    package var width: Double { windowWidth }
    /// Mean of the window (0 when empty).
    package var estimation: Double { windowWidth == 0 ? 0 : total / windowWidth }

    private mutating func reset() {
        totals = [[Double](repeating: 0, count: maxBuckets + 1)]
        variances = [[Double](repeating: 0, count: maxBuckets + 1)]
        fill = [0]
        total = 0
        variance = 0
        windowWidth = 0
        tick = 0
        driftDetected = false
    }

    /// Feeds one value; returns whether drift was detected at this value.
    /// Non-finite values are ignored (they would poison River's state too).
    @discardableResult
    package mutating func update(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if driftDetected { reset() }
        insert(value)
        driftDetected = detect()
        return driftDetected
    }

    private mutating func insert(_ value: Double) {
        append(row: 0, total: value, variance: 0)
        windowWidth += 1
        if windowWidth > 1 {
            let d = value - total / (windowWidth - 1)
            variance += (windowWidth - 1) * d * d / windowWidth
        }
        total += value
        compress()
    }

    private mutating func append(row: Int, total t: Double, variance v: Double) {
        if row == fill.count {
            totals.append([Double](repeating: 0, count: maxBuckets + 1))
            variances.append([Double](repeating: 0, count: maxBuckets + 1))
            fill.append(0)
        }
        totals[row][fill[row]] = t
        variances[row][fill[row]] = v
        fill[row] += 1
    }

    private mutating func dropOldest(row: Int, count: Int) {
        let k = fill[row]
        for i in 0..<(k - count) {
            totals[row][i] = totals[row][i + count]
            variances[row][i] = variances[row][i + count]
        }
        for i in (k - count)..<k {
            totals[row][i] = 0
            variances[row][i] = 0
        }
        fill[row] = k - count
    }

    private mutating func compress() {
        var row = 0
        while row < fill.count, fill[row] == maxBuckets + 1 {
            let size = Double(1 << row)
            let t0 = totals[row][0], t1 = totals[row][1]
            let m0 = t0 / size, m1 = t1 / size
            let merged = variances[row][0] + variances[row][1] + size * 0.5 * (m0 - m1) * (m0 - m1)
            append(row: row + 1, total: t0 + t1, variance: merged)
            dropOldest(row: row, count: 2)
            if fill[row + 1] <= maxBuckets { break }
            row += 1
        }
    }

    /// Removes the oldest summary (the first entry of the last row).
    private mutating func deleteOldest() {
        let last = fill.count - 1
        let n = Double(1 << last)
        let u = totals[last][0], v = variances[last][0]
        let mu = u / n
        windowWidth -= n
        total -= u
        let muWindow = total / windowWidth
        variance -= v + n * windowWidth * (mu - muWindow) * (mu - muWindow) / (n + windowWidth)
        dropOldest(row: last, count: 1)
        if fill[last] == 0 && last > 0 {
            totals.removeLast()
            variances.removeLast()
            fill.removeLast()
        }
    }

    private mutating func detect() -> Bool {
        tick += 1
        guard tick % clock == 0, windowWidth > Double(gracePeriod) else { return false }
        let minLength = Double(minWindowLength)
        var detected = false
        var rescan = true
        while rescan {
            rescan = false
            var n0 = 0.0, n1 = windowWidth, u0 = 0.0, u1 = total
            scan: for row in stride(from: fill.count - 1, through: 0, by: -1) {
                let size = Double(1 << row)
                let k = fill[row]
                for i in 0..<k {
                    n0 += size
                    n1 -= size
                    u0 += totals[row][i]
                    u1 -= totals[row][i]
                    if row == 0 && i == k - 1 { break scan }
                    if n1 >= minLength && n0 >= minLength && cutExceedsBound(n0: n0, n1: n1, meanDifference: u0 / n0 - u1 / n1) {
                        detected = true
                        rescan = true
                        if windowWidth > 0 {
                            deleteOldest()
                            break scan
                        }
                    }
                }
            }
        }
        return detected
    }

    private func cutExceedsBound(n0: Double, n1: Double, meanDifference: Double) -> Bool {
        let minLength = Double(minWindowLength)
        let deltaPrime = log(2 * log(windowWidth) / delta)
        let m = 1 / (n0 - minLength + 1) + 1 / (n1 - minLength + 1)
        let epsilon = (2 * m * (variance / windowWidth) * deltaPrime).squareRoot() + 2.0 / 3.0 * deltaPrime * m
        return abs(meanDifference) > epsilon
    }
}
