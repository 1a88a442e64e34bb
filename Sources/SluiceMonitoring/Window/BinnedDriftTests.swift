#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Drift tests of a binned window against a feature profile, O(bins).
///
/// Approximations (the window keeps counts and sums per reference bin, not values):
/// - KS: D is the largest CDF gap at the bin edges. It never exceeds the exact D and
///   misses at most the CDF mass inside one bin; with 200 reference-quantile bins the
///   tests measure |D_binned − D_exact| ≤ 0.01. When the reference has at most
///   `bins + 1` distinct values every reference value is an edge and D is exact for
///   window values that do not tie with reference values (the reference jump is taken
///   at the bin's left edge; window ties at an edge can add at most their own mass). The p-value is scipy's
///   for D and the two sizes.
/// - Wasserstein: each bin's mass sits at that sample's mean within the bin, and the
///   distance between the two resulting discrete distributions is exact. Error is
///   bounded by the bins' widths times the CDF gap inside them (small for fine bins).
/// - JS / PSI on continuous numerical features: fine bins are grouped into
///   `coarseBins` reference-quantile groups (Evidently uses Sturges equal-width bins
///   over the combined raw data, which a sketch cannot reproduce).
/// - Discrete numerical and categorical features: bins are the categories, exactly as
///   Evidently counts them; KS/Wasserstein overrides on a discrete profile ignore
///   values outside the reference's value set.
package enum BinnedDriftTests {
    /// Runs `test` on one feature.
    package static func run(
        test: DriftTest, threshold: Double, profile: FeatureProfile,
        counts: UnsafeBufferPointer<Double>, sums: UnsafeBufferPointer<Double>,
        configuration: DriftConfiguration = DriftConfiguration()
    ) -> DriftTestResult {
        var n = 0.0
        for c in counts { n += c }
        let nRef = Double(profile.count)
        guard n > 0, nRef > 0 else {
            return DriftTestResult(test: test, statistic: 0, pValue: test.usesPValue ? 1 : nil, threshold: threshold)
        }
        let categoricalBins = profile.kind == .categorical || profile.discrete
        switch test {
        case .kolmogorovSmirnov:
            let limit = categoricalBins ? profile.binCount - 1 : profile.binCount
            var cr = 0.0, cw = 0.0, nr = 0.0, nw = 0.0
            for b in 0..<limit { nr += profile.binCounts[b]; nw += counts[b] }
            var d = 0.0
            let atLeftEdge = profile.edgesAreReferenceValues
            let wn = max(nw, 1)
            for b in 0..<limit {
                let windowBefore = cw
                cr += profile.binCounts[b]
                cw += counts[b]
                d = max(d, abs(cr / nr - cw / wn))
                // The reference mass of this bin sits on its left edge: the reference CDF
                // jumps there, before any window value inside the bin.
                if atLeftEdge { d = max(d, abs(cr / nr - windowBefore / wn)) }
            }
            return DriftStatistics.kolmogorovSmirnov(statistic: min(d, 1), referenceCount: profile.count, currentCount: Int(nw),
                                                     threshold: threshold, method: configuration.ksMethod)
        case .wasserstein:
            let w = wasserstein(profile: profile, counts: counts, sums: sums, includeLast: !categoricalBins)
            return DriftTestResult(test: .wasserstein, statistic: w / max(profile.standardDeviation, 0.001), pValue: nil, threshold: threshold)
        case .chiSquare:
            if configuration.chiSquareMode == .homogeneity {
                return DriftStatistics.chiSquareHomogeneity(referenceCounts: profile.binCounts, currentCounts: Array(counts), threshold: threshold)
            }
            return DriftStatistics.chiSquare(referenceCounts: profile.binCounts, currentCounts: Array(counts), threshold: threshold)
        case .zTest:
            // Evidently's "first key" is the smallest value; categories sort by name.
            let first = firstKeyBin(profile: profile, counts: counts)
            return DriftStatistics.zTest(referenceFirst: profile.binCounts[first], referenceTotal: nRef, currentFirst: counts[first], currentTotal: n, threshold: threshold)
        case .jensenShannon, .psi:
            var ref = profile.binCounts
            var cur = Array(counts)
            if !categoricalBins { (ref, cur) = coarse(profile: profile, counts: counts, groups: configuration.coarseBins) }
            if test == .psi {
                // Evidently keeps only categories present somewhere before filling zeros.
                var r: [Double] = [], c: [Double] = []
                for i in ref.indices where ref[i] > 0 || cur[i] > 0 { r.append(ref[i]); c.append(cur[i]) }
                return DriftStatistics.psi(referenceCounts: r, currentCounts: c, threshold: threshold)
            }
            return DriftStatistics.jensenShannon(referenceCounts: ref, currentCounts: cur, threshold: threshold)
        }
    }

    private static func firstKeyBin(profile: FeatureProfile, counts: UnsafeBufferPointer<Double>) -> Int {
        if profile.kind == .numerical {
            for b in 0..<(profile.binCount - 1) where profile.binCounts[b] > 0 || counts[b] > 0 { return b }
            return 0
        }
        var best = -1
        for b in 0..<(profile.binCount - 1) where profile.binCounts[b] > 0 || counts[b] > 0 {
            if best < 0 || profile.categories[b] < profile.categories[best] { best = b }
        }
        return max(best, 0)
    }

    /// Groups the fine bins into `groups` bins of about equal reference mass.
    static func coarse(profile: FeatureProfile, counts: UnsafeBufferPointer<Double>, groups: Int) -> ([Double], [Double]) {
        let g = max(groups, 1)
        var ref = [Double](repeating: 0, count: g)
        var cur = [Double](repeating: 0, count: g)
        let nRef = Double(profile.count)
        var before = 0.0
        for b in 0..<profile.binCount {
            let c = profile.binCounts[b]
            let center = (before + c / 2) / nRef
            let group = min(g - 1, max(0, Int(center * Double(g))))
            ref[group] += c
            cur[group] += counts[b]
            before += c
        }
        return (ref, cur)
    }

    /// W1 between the two "mass at bin mean" discrete distributions.
    static func wasserstein(profile: FeatureProfile, counts: UnsafeBufferPointer<Double>, sums: UnsafeBufferPointer<Double>, includeLast: Bool) -> Double {
        let limit = includeLast ? profile.binCount : profile.binCount - 1
        var nr = 0.0, nw = 0.0
        for b in 0..<limit { nr += profile.binCounts[b]; nw += counts[b] }
        guard nr > 0, nw > 0 else { return .nan }
        var fr = 0.0, fw = 0.0
        var previous = -Double.infinity
        var total = 0.0
        for b in 0..<limit {
            let rc = profile.binCounts[b], wc = counts[b]
            if rc == 0 && wc == 0 { continue }
            let rm = rc > 0 ? (profile.discrete ? profile.edges[b] : profile.binSums[b] / rc) : .nan
            let wm = wc > 0 ? (profile.discrete ? profile.edges[b] : sums[b] / wc) : .nan
            // Visit this bin's support points (one per sample that has mass here) in value order.
            if rc > 0 && wc > 0 {
                let refFirst = rm <= wm
                let x1 = refFirst ? rm : wm, x2 = refFirst ? wm : rm
                if previous.isFinite { total += abs(fr - fw) * (x1 - previous) }
                if refFirst { fr += rc / nr } else { fw += wc / nw }
                total += abs(fr - fw) * (x2 - x1)
                if refFirst { fw += wc / nw } else { fr += rc / nr }
                previous = x2
            } else {
                let x = rc > 0 ? rm : wm
                if previous.isFinite { total += abs(fr - fw) * (x - previous) }
                fr += rc / nr
                fw += wc / nw
                previous = x
            }
        }
        return total
    }
}
