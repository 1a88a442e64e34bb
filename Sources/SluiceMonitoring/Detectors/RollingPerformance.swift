#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Model performance over the last `window` labelled predictions: accuracy,
/// log-loss, MAE and ROC AUC, all exact over the window.
///
/// Adding is O(1) (a ring buffer); `metrics()` is O(n) plus O(n log n) for AUC,
/// which sorts the window's scores (ties get average ranks, as the Mann–Whitney U
/// statistic). Labels are 0/1 (any value > 0.5 counts as positive); scores are
/// probabilities of the positive class.
package struct RollingPerformance: Sendable {
    /// The metrics of one window.
    package struct Metrics: Sendable, Equatable, Codable {
        /// Share of predictions whose class (score ≥ decision threshold) equals the label.
        package var accuracy: Double
        /// Mean binary cross-entropy, probabilities clamped to [1e-15, 1 − 1e-15] (River/sklearn).
        package var logLoss: Double
        /// Mean |label − score|.
        package var meanAbsoluteError: Double
        /// ROC AUC, nil when the window holds only one class.
        package var auc: Double?
        /// Predictions in the window.
        package var count: Int
    }

    package let window: Int
    package let decisionThreshold: Double
    private var labels: [Double]
    private var scores: [Double]
    private var next = 0
    private var filled = 0
    private var order: [Int32] = []

    /// - Parameter window: number of most recent predictions kept (≥ 1).
    package init(window: Int, decisionThreshold: Double = 0.5) {
        precondition(window >= 1, "window must hold at least one prediction")
        self.window = window
        self.decisionThreshold = decisionThreshold
        labels = [Double](repeating: 0, count: window)
        scores = [Double](repeating: 0, count: window)
    }

    /// Adds one labelled prediction, evicting the oldest when the window is full.
    /// Pairs with a non-finite label or score are ignored.
    package mutating func add(label: Double, score: Double) {
        guard label.isFinite, score.isFinite else { return }
        labels[next] = label
        scores[next] = score
        next = (next + 1) % window
        filled = min(filled + 1, window)
    }

    /// The metrics of the current window; nil when it is empty.
    package mutating func metrics() -> Metrics? {
        guard filled > 0 else { return nil }
        var correct = 0.0, loss = 0.0, absolute = 0.0
        for i in 0..<filled {
            let y = labels[i] > 0.5
            let p = scores[i]
            if (p >= decisionThreshold) == y { correct += 1 }
            let pc = min(max(p, 1e-15), 1 - 1e-15)
            loss += y ? -log(pc) : -log(1 - pc)
            absolute += abs(labels[i] - p)
        }
        let n = Double(filled)
        return Metrics(accuracy: correct / n, logLoss: loss / n, meanAbsoluteError: absolute / n, auc: auc(), count: filled)
    }

    private mutating func auc() -> Double? {
        if order.count != filled { order = (0..<Int32(filled)).map { $0 } }
        let s = scores
        order.sort { s[Int($0)] < s[Int($1)] }
        var positives = 0.0, rankSum = 0.0
        var i = 0
        while i < filled {
            var j = i
            while j + 1 < filled && s[Int(order[j + 1])] == s[Int(order[i])] { j += 1 }
            let averageRank = Double(i + j + 2) / 2  // ranks are 1-based
            for k in i...j where labels[Int(order[k])] > 0.5 {
                positives += 1
                rankSum += averageRank
            }
            i = j + 1
        }
        let negatives = Double(filled) - positives
        guard positives > 0, negatives > 0 else { return nil }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }
}
