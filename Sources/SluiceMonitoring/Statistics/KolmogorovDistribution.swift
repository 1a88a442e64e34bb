#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic
/// D_n (scipy's `kstwo`), used by the asymptotic branch of the two-sample test.
///
/// Follows the algorithm selection of Simard & L'Ecuyer (2011) with scipy's
/// cut-offs: Ruben–Gambino closed forms at the extremes, twice the one-sided
/// Smirnov tail for large `n·x²`, the Durbin matrix (Marsaglia–Tsang–Wang) for
/// moderate `n·x²`, and the Pelz–Good expansion for large `n`. Where scipy uses
/// the Pomeranz recursion (n ≤ 140, 0.754693 < n·x² ≤ 4) this uses the Durbin
/// matrix as well; both are exact algorithms, so results agree to rounding.
package enum KolmogorovDistribution {
    /// P(D_n ≥ x).
    package static func survival(n: Int, x: Double) -> Double {
        guard n > 0, !x.isNaN else { return .nan }
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let nd = Double(n)
        let t = nd * x
        if t <= 1 {
            if t <= 0.5 { return 1 }
            let cdf: Double
            if n <= 140 {
                var p = 1.0
                for i in 1...n { p *= Double(i) * (1.0 / nd) * (2 * t - 1) }
                cdf = p
            } else {
                cdf = exp(logFactorialOverPower(n) + nd * log(2 * t - 1))
            }
            return clip(1 - cdf)
        }
        if t >= nd - 1 {
            return clip(2 * pow(1 - x, nd))
        }
        if x >= 0.5 {
            return clip(2 * smirnovSurvival(n: n, x: x))
        }
        let nxSquared = t * x
        if n <= 140 {
            if nxSquared <= 4 {
                return clip(1 - durbinMatrixCDF(n: n, d: x))
            }
            return clip(2 * smirnovSurvival(n: n, x: x))
        }
        if nxSquared >= 370 { return 0 }
        if nxSquared >= 2.2 { return clip(2 * smirnovSurvival(n: n, x: x)) }
        let cdf: Double
        if nxSquared >= 18 {
            cdf = 1
        } else if n <= 100_000 && nd * pow(x, 1.5) <= 1.4 {
            cdf = durbinMatrixCDF(n: n, d: x)
        } else {
            cdf = pelzGoodCDF(n: n, x: x)
        }
        return clip(1 - cdf)
    }

    /// One-sided Smirnov tail P(D_n⁺ ≥ x) by the Birnbaum–Tingey sum; every
    /// term is positive and is evaluated in log space, so there is no cancellation.
    package static func smirnovSurvival(n: Int, x: Double) -> Double {
        if x <= 0 { return 1 }
        if x >= 1 { return 0 }
        let nd = Double(n)
        let last = Int((nd * (1 - x)).rounded(.down))
        var logBinomial = 0.0  // log C(n, v)
        var sum = 0.0
        let logX = log(x)
        var v = 0
        while v <= last {
            let vd = Double(v)
            let a = x + vd / nd
            let b = 1 - a
            if b > 0 || n - v == 0 {
                let tail = n - v == 0 ? 0 : (nd - vd) * log(b)
                let logTerm = logBinomial + logX + (vd - 1) * log(a) + tail
                sum += exp(logTerm)
            }
            logBinomial += log((nd - vd) / (vd + 1))
            v += 1
        }
        return min(max(sum, 0), 1)
    }

    /// log(n! / nⁿ) by Stirling's series with the n·log(n) part removed.
    static func logFactorialOverPower(_ n: Int) -> Double {
        let nd = Double(n)
        let coefficients: [Double] = [
            -2.955065359477124183e-2, 6.4102564102564102564e-3,
            -1.9175269175269175269e-3, 8.4175084175084175084e-4,
            -5.952380952380952381e-4, 7.9365079365079365079e-4,
            -2.7777777777777777778e-3, 8.3333333333333333333e-2,
        ]
        let rn = 1.0 / nd
        let r2 = rn / nd
        var poly = 0.0
        for c in coefficients { poly = poly * r2 + c }
        return log(nd) / 2 - nd + log(2 * Double.pi) / 2 + rn * poly
    }

    /// Durbin's matrix algorithm for P(D_n < d), computing the k-th diagonal
    /// entry of Hⁿ by repeated squaring with power-of-two rescaling.
    static func durbinMatrixCDF(n: Int, d: Double) -> Double {
        if d >= 1 { return 1 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1
        var hMatrix = [Double](repeating: 0, count: m * m)
        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var fac = 1.0
        for j in 1...m {
            w[j - 1] = fac
            fac /= Double(j)
            v[j - 1] = (1 - pow(h, Double(j))) * fac
        }
        let tt = pow(max(2 * h - 1, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1 + tt) * fac
        for i in 1..<max(m, 1) {
            for r in (i - 1)..<m {
                hMatrix[r * m + i] = w[r - (i - 1)]
            }
        }
        for r in 0..<m { hMatrix[r * m] = v[r] }
        for c in 0..<m { hMatrix[(m - 1) * m + c] = v[m - 1 - c] }

        var power = [Double](repeating: 0, count: m * m)
        for i in 0..<m { power[i * m + i] = 1 }
        var scratch = [Double](repeating: 0, count: m * m)
        let big = 0x1p128
        let small = 0x1p-128
        var exponent = 0
        var hExponent = 0
        var remaining = n
        while remaining > 0 {
            if remaining % 2 == 1 {
                multiply(power, hMatrix, into: &scratch, m: m)
                swap(&power, &scratch)
                exponent += hExponent
            }
            multiply(hMatrix, hMatrix, into: &scratch, m: m)
            swap(&hMatrix, &scratch)
            hExponent *= 2
            if abs(hMatrix[(k - 1) * m + (k - 1)]) > big {
                for i in 0..<(m * m) { hMatrix[i] /= big }
                hExponent += 128
            }
            remaining /= 2
        }
        var p = power[(k - 1) * m + (k - 1)]
        for i in 1...n {
            p = Double(i) * p / Double(n)
            if abs(p) < small {
                p *= big
                exponent -= 128
            }
        }
        if exponent != 0 { p = scalbn(p, Int32(exponent)) }
        return min(max(p, 0), 1)
    }

    private static func multiply(_ a: [Double], _ b: [Double], into c: inout [Double], m: Int) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<m {
                        for j in 0..<m { pc[i * m + j] = 0 }
                        for l in 0..<m {
                            let ail = pa[i * m + l]
                            if ail == 0 { continue }
                            for j in 0..<m { pc[i * m + j] += ail * pb[l * m + j] }
                        }
                    }
                }
            }
        }
    }

    /// Pelz–Good asymptotic expansion of P(D_n ≤ x).
    static func pelzGoodCDF(n: Int, x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let pi2 = Double.pi * Double.pi
        let pi4 = pi2 * pi2
        let pi6 = pi4 * pi2
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let z = Double(n).squareRoot() * x
        let z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2
        let qlog = -pi2 / 8 / z2
        if qlog < -708 { return 0 }
        var q = exp(qlog)
        let k1a = -z2
        let k1b = pi2 / 4
        let k2a = 6 * z6 + 2 * z4
        let k2b = (2 * z4 - 5 * z2) * pi2 / 4
        let k2c = pi4 * (1 - 2 * z2) / 16
        let k3d = pi6 * (5 - 30 * z2) / 64
        let k3c = pi4 * (-60 * z2 + 212 * z4) / 16
        let k3b = pi2 * (135 * z4 - 96 * z6) / 4
        let k3a = -30 * z6 - 90 * pow(z, 8)
        var kk = [0.0, 0.0, 0.0, 0.0]
        let maxk = Int((16 * z / Double.pi).rounded(.up))
        var k = maxk
        while k >= 1 {
            let mm = Double(2 * k - 1)
            let m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2
            let qpower = pow(q, Double(8 * k))
            let coeffs = [1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6]
            for i in 0..<4 { kk[i] = kk[i] * qpower + coeffs[i] }
            k -= 1
        }
        let divisors = [z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)]
        for i in 0..<4 { kk[i] = kk[i] * q * sqrt2pi / divisors[i] }
        q = exp(-pi2 / 2 / z2)
        var k2extra = 0.0
        var k3extra = 0.0
        let sqrt3z = 3.0.squareRoot() * z
        k = maxk
        while k >= 1 {
            let kd = Double(k)
            let qp = pow(q, kd * kd)
            k2extra += kd * kd * qp
            let kspi = Double.pi * kd
            k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * kd * kd * qp
            k -= 1
        }
        kk[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
        kk[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
        var sum = 0.0
        for i in 0..<4 { sum += kk[i] / pow(Double(n), Double(i) / 2) }
        return sum
    }

    private static func clip(_ p: Double) -> Double { min(max(p, 0), 1) }
}
