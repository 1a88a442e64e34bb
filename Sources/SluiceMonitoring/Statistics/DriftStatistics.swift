#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Pure drift-test functions over sufficient statistics (sorted samples or
/// aligned category counts), matching Evidently's stattests and the scipy
/// functions they call.
package enum DriftStatistics {
    // MARK: Kolmogorov–Smirnov

    /// KS test of two raw samples (NaNs dropped), as `scipy.stats.ks_2samp(method="auto")`.
    package static func kolmogorovSmirnov(reference: [Double], current: [Double], threshold: Double = DriftTest.kolmogorovSmirnov.defaultThreshold) -> DriftTestResult {
        let a = reference.filter { !$0.isNaN }.sorted()
        let b = current.filter { !$0.isNaN }.sorted()
        return kolmogorovSmirnov(sortedReference: a, sortedCurrent: b, threshold: threshold)
    }

    /// KS test of two sorted samples without NaNs.
    package static func kolmogorovSmirnov(sortedReference a: [Double], sortedCurrent b: [Double], threshold: Double = DriftTest.kolmogorovSmirnov.defaultThreshold) -> DriftTestResult {
        let d = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in KolmogorovSmirnov.statistic(sortedReference: pa, sortedCurrent: pb) }
        }
        return kolmogorovSmirnov(statistic: d, referenceCount: a.count, currentCount: b.count, threshold: threshold)
    }

    /// KS decision for an already computed statistic.
    package static func kolmogorovSmirnov(statistic d: Double, referenceCount: Int, currentCount: Int, threshold: Double = DriftTest.kolmogorovSmirnov.defaultThreshold, method: KSMethod = .auto) -> DriftTestResult {
        let p = method == .auto
            ? KolmogorovSmirnov.pValue(statistic: d, n1: referenceCount, n2: currentCount)
            : KolmogorovSmirnov.asymptoticPValue(statistic: d, n1: referenceCount, n2: currentCount)
        return DriftTestResult(test: .kolmogorovSmirnov, statistic: d, pValue: p, threshold: threshold)
    }

    // MARK: Chi-square

    /// Chi-square goodness of fit as Evidently: `chisquare(current, ref_counts · n_cur / n_ref)`.
    ///
    /// Categories absent from both samples are dropped (Evidently builds its keys
    /// from the values present). A category seen in the current data but never
    /// in the reference has expected count 0: the statistic is +∞ and p = 0
    /// (scipy refuses such input; drift is the useful answer). With fewer than two
    /// categories the test is undefined and reports statistic 0, p = 1.
    package static func chiSquare(referenceCounts: [Double], currentCounts: [Double], threshold: Double = DriftTest.chiSquare.defaultThreshold) -> DriftTestResult {
        precondition(referenceCounts.count == currentCounts.count, "category counts must be aligned")
        var nRef = 0.0, nCur = 0.0, categories = 0
        for i in referenceCounts.indices where referenceCounts[i] > 0 || currentCounts[i] > 0 {
            nRef += referenceCounts[i]
            nCur += currentCounts[i]
            categories += 1
        }
        guard categories >= 2, nRef > 0, nCur > 0 else {
            return DriftTestResult(test: .chiSquare, statistic: 0, pValue: 1, threshold: threshold)
        }
        let kNorm = nCur / nRef
        var stat = 0.0
        for i in referenceCounts.indices where referenceCounts[i] > 0 || currentCounts[i] > 0 {
            let expected = referenceCounts[i] * kNorm
            let diff = currentCounts[i] - expected
            stat += expected == 0 ? .infinity : diff * diff / expected
        }
        let p = stat.isInfinite ? 0 : SpecialFunctions.chiSquareSurvival(stat, degreesOfFreedom: Double(categories - 1))
        return DriftTestResult(test: .chiSquare, statistic: stat, pValue: p, threshold: threshold)
    }

    /// Two-sample chi-square test of homogeneity (`scipy.stats.chi2_contingency` on the
    /// 2×k table, no continuity correction), over categories present in either sample.
    ///
    /// Unlike Evidently's goodness-of-fit form it accounts for the reference's own
    /// sampling noise, so a small reference against a large window does not flag
    /// drift by itself. Opt in with `DriftConfiguration.chiSquareMode`.
    package static func chiSquareHomogeneity(referenceCounts: [Double], currentCounts: [Double], threshold: Double = DriftTest.chiSquare.defaultThreshold) -> DriftTestResult {
        precondition(referenceCounts.count == currentCounts.count, "category counts must be aligned")
        var nRef = 0.0, nCur = 0.0, categories = 0
        for i in referenceCounts.indices where referenceCounts[i] > 0 || currentCounts[i] > 0 {
            nRef += referenceCounts[i]
            nCur += currentCounts[i]
            categories += 1
        }
        guard categories >= 2, nRef > 0, nCur > 0 else {
            return DriftTestResult(test: .chiSquare, statistic: 0, pValue: 1, threshold: threshold)
        }
        let n = nRef + nCur
        var stat = 0.0
        for i in referenceCounts.indices where referenceCounts[i] > 0 || currentCounts[i] > 0 {
            let column = referenceCounts[i] + currentCounts[i]
            let eRef = nRef * column / n, eCur = nCur * column / n
            stat += (referenceCounts[i] - eRef) * (referenceCounts[i] - eRef) / eRef
            stat += (currentCounts[i] - eCur) * (currentCounts[i] - eCur) / eCur
        }
        let p = SpecialFunctions.chiSquareSurvival(stat, degreesOfFreedom: Double(categories - 1))
        return DriftTestResult(test: .chiSquare, statistic: stat, pValue: p, threshold: threshold)
    }

    // MARK: Z-test

    /// Evidently's two-proportion Z-test: `first` counts the first category (in
    /// sorted order) in each sample; p = 2·(1 − Φ(|z|)). When the pooled share is
    /// 0 or 1 (one value everywhere) p = 1.
    package static func zTest(referenceFirst: Double, referenceTotal: Double, currentFirst: Double, currentTotal: Double, threshold: Double = DriftTest.zTest.defaultThreshold) -> DriftTestResult {
        guard referenceTotal > 0, currentTotal > 0 else {
            return DriftTestResult(test: .zTest, statistic: 0, pValue: 1, threshold: threshold)
        }
        // Evidently encodes the first key as 0 and the rest as 1.
        let p1 = (referenceTotal - referenceFirst) / referenceTotal
        let p2 = (currentTotal - currentFirst) / currentTotal
        let pooled = (p1 * referenceTotal + p2 * currentTotal) / (referenceTotal + currentTotal)
        let variance = pooled * (1 - pooled) * (1.0 / referenceTotal + 1.0 / currentTotal)
        guard variance > 0 else {
            return DriftTestResult(test: .zTest, statistic: 0, pValue: 1, threshold: threshold)
        }
        let z = (p1 - p2) / variance.squareRoot()
        let p = 2 * (1 - SpecialFunctions.normalCDF(abs(z)))
        return DriftTestResult(test: .zTest, statistic: z, pValue: p, threshold: threshold)
    }

    // MARK: Wasserstein

    /// 1-D Wasserstein distance of two sorted samples (`scipy.stats.wasserstein_distance`).
    package static func wassersteinDistance(sortedReference u: [Double], sortedCurrent v: [Double]) -> Double {
        let nu = u.count, nv = v.count
        guard nu > 0, nv > 0 else { return .nan }
        var i = 0, j = 0
        var total = 0.0
        var previous: Double? = nil
        var fu = 0.0, fv = 0.0
        while i < nu || j < nv {
            let x: Double
            if j >= nv || (i < nu && u[i] <= v[j]) { x = u[i] } else { x = v[j] }
            if let p = previous { total += abs(fu - fv) * (x - p) }
            while i < nu && u[i] <= x { i += 1 }
            while j < nv && v[j] <= x { j += 1 }
            fu = Double(i) / Double(nu)
            fv = Double(j) / Double(nv)
            previous = x
        }
        return total
    }

    /// Evidently's normed Wasserstein test: distance / max(std_ref, 0.001), std with ddof 0.
    package static func wasserstein(reference: [Double], current: [Double], threshold: Double = DriftTest.wasserstein.defaultThreshold) -> DriftTestResult {
        let a = reference.filter { !$0.isNaN }.sorted()
        let b = current.filter { !$0.isNaN }.sorted()
        let distance = wassersteinDistance(sortedReference: a, sortedCurrent: b)
        let std = populationStandardDeviation(a)
        return DriftTestResult(test: .wasserstein, statistic: distance / max(std, 0.001), pValue: nil, threshold: threshold)
    }

    /// Population standard deviation (numpy's default ddof = 0), two-pass.
    package static func populationStandardDeviation(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        var sum = 0.0
        for x in xs { sum += x }
        let mean = sum / Double(xs.count)
        var ss = 0.0
        for x in xs { ss += (x - mean) * (x - mean) }
        return (ss / Double(xs.count)).squareRoot()
    }

    // MARK: Jensen–Shannon and PSI

    /// Jensen–Shannon distance with natural log (`scipy.spatial.distance.jensenshannon`, base None).
    /// Inputs are normalised to sum 1.
    package static func jensenShannonDistance(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count, "distributions must be aligned")
        var sp = 0.0, sq = 0.0
        for i in p.indices { sp += p[i]; sq += q[i] }
        guard sp > 0, sq > 0 else { return .nan }
        var js = 0.0
        for i in p.indices {
            let a = p[i] / sp, b = q[i] / sq
            let m = (a + b) / 2
            if a > 0 { js += a * log(a / m) }
            if b > 0 { js += b * log(b / m) }
        }
        return (max(js, 0) / 2).squareRoot()
    }

    /// JS test over aligned (binned or categorical) counts; Evidently uses no zero filling here.
    package static func jensenShannon(referenceCounts: [Double], currentCounts: [Double], threshold: Double = DriftTest.jensenShannon.defaultThreshold) -> DriftTestResult {
        DriftTestResult(test: .jensenShannon, statistic: jensenShannonDistance(referenceCounts, currentCounts), pValue: nil, threshold: threshold)
    }

    /// Evidently's zero replacement: zero shares become min(nonzero)/1e6 when the
    /// smallest non-zero share is ≤ 0.0001, else 0.0001.
    package static func fillZeroes(_ shares: inout [Double]) {
        var smallest = Double.infinity
        for s in shares where s != 0 { smallest = min(smallest, s) }
        guard smallest.isFinite else { return }
        let fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001
        for i in shares.indices where shares[i] == 0 { shares[i] = fill }
    }

    /// PSI over aligned counts: shares, Evidently's zero filling, Σ (r − c)·ln(r / c).
    package static func psi(referenceCounts: [Double], currentCounts: [Double], threshold: Double = DriftTest.psi.defaultThreshold) -> DriftTestResult {
        var r = shares(referenceCounts)
        var c = shares(currentCounts)
        fillZeroes(&r)
        fillZeroes(&c)
        var value = 0.0
        for i in r.indices { value += (r[i] - c[i]) * log(r[i] / c[i]) }
        return DriftTestResult(test: .psi, statistic: value, pValue: nil, threshold: threshold)
    }

    /// Counts divided by their total.
    package static func shares(_ counts: [Double]) -> [Double] {
        var total = 0.0
        for c in counts { total += c }
        guard total > 0 else { return counts.map { _ in 0 } }
        return counts.map { $0 / total }
    }
}
