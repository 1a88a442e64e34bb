#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Special functions the drift tests need: the normal CDF, the regularized
/// incomplete gamma functions and the chi-square survival function.
///
/// The incomplete gamma uses the power series for `x < a + 1` and a modified
/// Lentz continued fraction otherwise (Numerical Recipes' split, which keeps
/// both pieces away from cancellation); both run to double precision, giving
/// about 1e-13 relative accuracy for the arguments drift tests produce.
package enum SpecialFunctions {
    /// Standard normal cumulative distribution function Φ(x).
    package static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// Natural logarithm of Γ(x) for x > 0.
    package static func logGamma(_ x: Double) -> Double {
        var sign: Int32 = 0
        return lgamma_r(x, &sign)
    }

    /// Regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a).
    package static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard a > 0, !x.isNaN else { return .nan }
        if x <= 0 { return 1 }
        if x.isInfinite { return 0 }
        if x < a + 1 {
            return max(0, 1 - lowerSeries(a, x))
        }
        return upperContinuedFraction(a, x)
    }

    /// Regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a).
    package static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        guard a > 0, !x.isNaN else { return .nan }
        if x <= 0 { return 0 }
        if x.isInfinite { return 1 }
        if x < a + 1 {
            return lowerSeries(a, x)
        }
        return max(0, 1 - upperContinuedFraction(a, x))
    }

    /// Survival function of the chi-square distribution with `degreesOfFreedom`.
    package static func chiSquareSurvival(_ x: Double, degreesOfFreedom: Double) -> Double {
        regularizedGammaQ(degreesOfFreedom / 2, x / 2)
    }

    /// log(x^a e^-x / Γ(a)), the common prefactor of both expansions.
    private static func logPrefactor(_ a: Double, _ x: Double) -> Double {
        a * log(x) - x - logGamma(a)
    }

    private static func lowerSeries(_ a: Double, _ x: Double) -> Double {
        var term = 1.0 / a
        var sum = term
        var ap = a
        for _ in 0..<100_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-17 { break }
        }
        return sum * exp(logPrefactor(a, x))
    }

    private static func upperContinuedFraction(_ a: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        var i = 1.0
        while i < 100_000 {
            let an = -i * (i - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
            i += 1
        }
        return exp(logPrefactor(a, x)) * h
    }
}
