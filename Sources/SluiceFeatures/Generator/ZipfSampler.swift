#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Samples ranks `1...n` with probability proportional to `1 / rank^s` (Zipf's law), by inverting
/// a precomputed cumulative distribution with binary search.
package struct ZipfSampler: Sendable {
    /// The number of ranks.
    package let count: Int
    /// The exponent `s`.
    package let exponent: Double
    /// `cdf[k]` = P(rank ≤ k + 1); the last entry is exactly 1.
    private let cdf: [Double]

    /// Precomputes the distribution over `count` ranks (`count` ≥ 1, `exponent` ≥ 0).
    package init(count: Int, exponent: Double) {
        precondition(count >= 1, "ZipfSampler needs at least one rank")
        precondition(exponent >= 0 && exponent.isFinite, "ZipfSampler needs a finite, non-negative exponent")
        self.count = count
        self.exponent = exponent
        var weights = [Double](repeating: 0, count: count)
        var total = 0.0
        for k in 0..<count {
            let w = 1 / pow(Double(k + 1), exponent)
            total += w
            weights[k] = total
        }
        for k in 0..<count { weights[k] /= total }
        weights[count - 1] = 1
        cdf = weights
    }

    /// The probability of `rank` (1-based).
    package func probability(ofRank rank: Int) -> Double {
        precondition(rank >= 1 && rank <= count, "rank out of range")
        return rank == 1 ? cdf[0] : cdf[rank - 1] - cdf[rank - 2]
    }

    /// A rank in `1...count`.
    @inline(__always)
    package func sample(using random: inout DemoRandomGenerator) -> Int {
        let u = random.nextUnit()
        return cdf.withUnsafeBufferPointer { c in
            var lo = 0
            var hi = c.count - 1
            while lo < hi {
                let mid = (lo + hi) >> 1
                if c[mid] > u { hi = mid } else { lo = mid + 1 }
            }
            return lo + 1
        }
    }
}
