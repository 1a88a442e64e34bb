#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Evidently's `get_binned_data` for raw samples: numerical features with more
/// than 20 distinct reference values are cut into Sturges equal-width bins over
/// the combined range (`numpy.histogram_bin_edges(bins="sturges")`); anything
/// else is compared value by value over the union of observed values.
package enum EvidentlyBinning {
    /// Aligned reference and current counts for raw samples (NaNs dropped).
    package static func binnedCounts(reference: [Double], current: [Double], numerical: Bool) -> (reference: [Double], current: [Double]) {
        let a = reference.filter { !$0.isNaN }.sorted()
        let b = current.filter { !$0.isNaN }.sorted()
        if numerical && distinctCount(sorted: a) > 20 {
            let edges = sturgesEdges(min: min(a[0], b.first ?? a[0]), max: max(a[a.count - 1], b.last ?? a[a.count - 1]), count: a.count + b.count)
            return (histogram(sorted: a, edges: edges), histogram(sorted: b, edges: edges))
        }
        var keys: [Double] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            let x = (j >= b.count || (i < a.count && a[i] <= b[j])) ? a[i] : b[j]
            keys.append(x)
            while i < a.count && a[i] == x { i += 1 }
            while j < b.count && b[j] == x { j += 1 }
        }
        return (valueCounts(sorted: a, keys: keys), valueCounts(sorted: b, keys: keys))
    }

    /// Number of distinct values of a sorted sample.
    package static func distinctCount(sorted: [Double]) -> Int {
        guard !sorted.isEmpty else { return 0 }
        var n = 1
        for i in 1..<sorted.count where sorted[i] != sorted[i - 1] { n += 1 }
        return n
    }

    /// numpy's Sturges edges: width = ptp / (log2(n) + 1), ceil(ptp / width) bins, linspace edges.
    package static func sturgesEdges(min lo: Double, max hi: Double, count: Int) -> [Double] {
        var first = lo, last = hi
        if first == last {
            first -= 0.5
            last += 0.5
        }
        let ptp = hi - lo
        let width = ptp / (log2(Double(count)) + 1.0)
        let bins = width > 0 ? Int((( last - first) / width).rounded(.up)) : 1
        // numpy.linspace: i * step + start, with the last edge set to stop exactly.
        let step = (last - first) / Double(bins)
        var edges = [Double](repeating: 0, count: bins + 1)
        for i in 0...bins { edges[i] = Double(i) * step + first }
        edges[bins] = last
        return edges
    }

    /// numpy.histogram counts: [e_i, e_{i+1}) with the last bin closed.
    package static func histogram(sorted: [Double], edges: [Double]) -> [Double] {
        let bins = edges.count - 1
        var counts = [Double](repeating: 0, count: bins)
        for x in sorted {
            guard x >= edges[0], x <= edges[bins] else { continue }
            // index = (number of edges <= x) - 1, clamped to the last bin
            var lo = 0, hi = edges.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if edges[mid] <= x { lo = mid + 1 } else { hi = mid }
            }
            counts[min(lo - 1, bins - 1)] += 1
        }
        return counts
    }

    private static func valueCounts(sorted: [Double], keys: [Double]) -> [Double] {
        var counts = [Double](repeating: 0, count: keys.count)
        var k = 0
        for x in sorted {
            while keys[k] < x { k += 1 }
            counts[k] += 1
        }
        return counts
    }
}
