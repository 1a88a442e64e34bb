#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Two-sample Kolmogorov–Smirnov test, matching `scipy.stats.ks_2samp`
/// (two-sided, `method="auto"`).
///
/// `auto` computes the exact null distribution when both samples have at most
/// 10,000 values (Hodges' lattice-path counting: the "outside square" series when
/// the sizes are equal, the Viehmann "inside" recursion otherwise), and otherwise
/// Smirnov's asymptotic form `P(D_en ≥ d)` with `en = round(n1·n2 / (n1 + n2))`.
/// When the exact computation is numerically unusable it falls back to the
/// asymptotic form, as scipy does.
package enum KolmogorovSmirnov {
    /// Largest sample size for which `auto` uses the exact distribution.
    package static let maxExactSize = 10_000

    /// The statistic D = sup |F1 − F2| of two sorted samples. NaNs must be removed.
    package static func statistic(sortedReference a: UnsafeBufferPointer<Double>, sortedCurrent b: UnsafeBufferPointer<Double>) -> Double {
        let n1 = a.count, n2 = b.count
        guard n1 > 0, n2 > 0 else { return .nan }
        // scipy evaluates the ECDF steps as i * (1/n) (numpy.linspace), ending at exactly 1.
        let step1 = 1.0 / Double(n1), step2 = 1.0 / Double(n2)
        var i = 0, j = 0
        var d = 0.0
        while i < n1 || j < n2 {
            let x: Double
            if j >= n2 || (i < n1 && a[i] <= b[j]) { x = a[i] } else { x = b[j] }
            while i < n1 && a[i] <= x { i += 1 }
            while j < n2 && b[j] <= x { j += 1 }
            let f1 = i == n1 ? 1.0 : Double(i) * step1
            let f2 = j == n2 ? 1.0 : Double(j) * step2
            d = max(d, abs(f1 - f2))
        }
        return min(d, 1)
    }

    /// Two-sided p-value of statistic `d` for sample sizes `n1`, `n2`.
    package static func pValue(statistic d: Double, n1: Int, n2: Int) -> Double {
        guard n1 > 0, n2 > 0, !d.isNaN else { return .nan }
        if max(n1, n2) <= maxExactSize, let exact = exactPValue(statistic: d, n1: n1, n2: n2) {
            return min(max(exact, 0), 1)
        }
        return asymptoticPValue(statistic: d, n1: n1, n2: n2)
    }

    /// Smirnov's asymptotic p-value (scipy's `asymp` mode).
    package static func asymptoticPValue(statistic d: Double, n1: Int, n2: Int) -> Double {
        let m = Double(max(n1, n2)), n = Double(min(n1, n2))
        let en = m * n / (m + n)
        let rounded = Int(en.rounded(.toNearestOrEven))
        return min(max(KolmogorovDistribution.survival(n: max(rounded, 1), x: d), 0), 1)
    }

    /// The exact p-value, or nil when it cannot be computed in double precision.
    package static func exactPValue(statistic d: Double, n1: Int, n2: Int) -> Double? {
        let g = gcd(n1, n2)
        let lcm = (n1 / g) * n2
        let h = Int((d * Double(lcm)).rounded(.toNearestOrEven))
        if h == 0 { return 1 }
        let p: Double
        if n1 == n2 {
            p = probabilityOutsideSquare(n: n1, h: h)
        } else {
            p = probabilityOutsideInside(m: n1, n: n2, g: g, h: h)
        }
        guard p.isFinite, p >= 0, p <= 1 else { return nil }
        return p
    }

    /// P(D_{n,n} ≥ h/n) by the alternating binomial series in Horner form.
    static func probabilityOutsideSquare(n: Int, h: Int) -> Double {
        var p = 0.0
        var k = n / h
        while k >= 0 {
            var p1 = 1.0
            for j in 0..<h {
                p1 = Double(n - k * h - j) * p1 / Double(n + k * h + j + 1)
            }
            p = p1 * (1 - p)
            k -= 1
        }
        return 2 * p
    }

    /// Proportion of lattice paths that leave the band |x/m − y/n| < h/lcm,
    /// computed column by column as 1 − (inside proportion) for stability.
    static func probabilityOutsideInside(m m0: Int, n n0: Int, g: Int, h: Int) -> Double {
        let m = max(m0, n0), n = min(m0, n0)
        let mg = m / g, ng = n / g
        var minj = 0
        var maxj = min(ceilDiv(h, mg), n + 1)
        var curlen = maxj - minj
        let lenA = min(2 * maxj + 2, n + 1)
        var a = [Double](repeating: 1, count: lenA)
        for idx in minj..<maxj { a[idx] = 0 }
        return a.withUnsafeMutableBufferPointer { buf -> Double in
            for i in 1...m {
                let lastminj = minj, lastlen = curlen
                minj = max(floorDiv(ng * i - h, mg) + 1, 0)
                minj = min(minj, n)
                maxj = min(ceilDiv(ng * i + h, mg), n + 1)
                if maxj <= minj { return 1 }
                var val = minj == 0 ? 0.0 : 1.0
                let di = Double(i)
                for jj in 0..<(maxj - minj) {
                    let j = jj + minj
                    val = (buf[jj + minj - lastminj] * di + val * Double(j)) / (di + Double(j))
                    buf[jj] = val
                }
                curlen = maxj - minj
                if lastlen > curlen {
                    for idx in (maxj - minj)..<(maxj - minj + lastlen - curlen) where idx < buf.count {
                        buf[idx] = 1
                    }
                }
            }
            return buf[maxj - minj - 1]
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var x = a, y = b
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func ceilDiv(_ a: Int, _ b: Int) -> Int {
        -floorDiv(-a, b)
    }
}
