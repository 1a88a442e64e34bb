/// The reference summary of one feature, enough to test a binned window against it.
///
/// Bin layout (`binCount = edges.count + 1` for numerical, `categories.count + 1` for categorical):
/// - continuous numerical: bin 0 is (−∞, e₀), bin i is [eᵢ₋₁, eᵢ), the last bin is [eₖ₋₁, +∞);
///   the edges are reference quantiles, or every distinct reference value when there are
///   few of them (then KS on the window is exact for values that do not tie with the reference);
/// - discrete numerical (at most `DriftTestSelector.categoricalUniqueLimit` distinct values):
///   bin i holds exactly `edges[i]`, the last bin any other value;
/// - categorical: bin i holds `categories[i]`, the last bin "other" (capped categories and unseen values).
package struct FeatureProfile: Codable, Sendable, Equatable {
    /// Feature name.
    package var name: String
    /// Numerical or categorical.
    package var kind: FeatureKind
    /// Reference values seen (missing values excluded).
    package var count: Int
    /// Missing (NaN / null) reference values.
    package var missing: Int
    /// Distinct reference values (exact when built from a sample).
    package var uniqueCount: Int
    /// Mean of the reference (numerical only, else 0).
    package var mean: Double
    /// Population standard deviation of the reference (ddof 0, as numpy.std).
    package var standardDeviation: Double
    /// Smallest reference value (numerical only).
    package var minimum: Double
    /// Largest reference value (numerical only).
    package var maximum: Double
    /// True when bins are the distinct values themselves (see the type's layout notes).
    package var discrete: Bool
    /// Bin edges (continuous) or distinct values (discrete); empty for categorical.
    package var edges: [Double]
    /// Category names, most frequent first; empty for numerical.
    package var categories: [String]
    /// Reference count per bin.
    package var binCounts: [Double]
    /// Sum of reference values per bin (numerical), for bin means in the Wasserstein approximation.
    package var binSums: [Double]
    /// The sorted reference sample when it has at most the builder's sample cap values.
    package var sample: [Double]?

    /// True when every distinct reference value is an edge (continuous layout), so the
    /// reference CDF is known exactly and binned KS is exact for untied window values.
    package var edgesAreReferenceValues: Bool { kind == .numerical && !discrete && edges.count == uniqueCount }

    /// Number of bins in the layout.
    package var binCount: Int { kind == .numerical ? edges.count + 1 : categories.count + 1 }

    /// The bin of a numerical value (NaN must be handled by the caller).
    package func bin(of value: Double) -> Int {
        edges.withUnsafeBufferPointer { FeatureProfile.bin(of: value, edges: $0, discrete: discrete) }
    }

    /// Bin lookup shared with the window's hot path.
    static func bin(of value: Double, edges: UnsafeBufferPointer<Double>, discrete: Bool) -> Int {
        // number of edges <= value
        var lo = 0, hi = edges.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if edges[mid] <= value { lo = mid &+ 1 } else { hi = mid }
        }
        if discrete {
            return (lo > 0 && edges[lo - 1] == value) ? lo - 1 : edges.count
        }
        return lo
    }

    /// Builds a numerical profile from a reference sample; NaN and ±∞ count as missing.
    /// - Parameters:
    ///   - bins: target number of quantile bins for continuous features (100–200 is sensible).
    ///   - exactEdgeLimit: when the reference has at most this many distinct values, every
    ///     distinct value becomes an edge, so window KS against a small reference (the case
    ///     where Evidently's rule picks KS) is exact instead of binned.
    ///   - sampleCap: keep the exact sorted sample when the reference has at most this many values.
    package static func numerical(name: String, values: [Double], bins: Int = 200, exactEdgeLimit: Int = 1000, sampleCap: Int = 1000) -> FeatureProfile {
        let sorted = values.filter { $0.isFinite }.sorted()
        let n = sorted.count
        var distinct: [Double] = []
        for x in sorted where distinct.last != x { distinct.append(x) }
        var sum = 0.0
        for x in sorted { sum += x }
        let mean = n > 0 ? sum / Double(n) : 0
        var ss = 0.0
        for x in sorted { ss += (x - mean) * (x - mean) }
        let std = n > 0 ? (ss / Double(n)).squareRoot() : 0
        let discrete = distinct.count <= DriftTestSelector.categoricalUniqueLimit
        var edges: [Double]
        if discrete || distinct.count <= max(bins + 1, exactEdgeLimit) {
            edges = distinct
        } else {
            edges = []
            for i in 1..<bins {
                let e = sorted[Int(Double(i) * Double(n) / Double(bins))]
                if edges.last != e { edges.append(e) }
            }
            if edges.first != sorted[0] { edges.insert(sorted[0], at: 0) }
        }
        var profile = FeatureProfile(
            name: name, kind: .numerical, count: n, missing: values.count - n, uniqueCount: distinct.count,
            mean: mean, standardDeviation: std, minimum: sorted.first ?? 0, maximum: sorted.last ?? 0,
            discrete: discrete, edges: edges, categories: [],
            binCounts: [Double](repeating: 0, count: edges.count + 1),
            binSums: [Double](repeating: 0, count: edges.count + 1),
            sample: n <= sampleCap ? sorted : nil)
        for x in sorted {
            let b = profile.bin(of: x)
            profile.binCounts[b] += 1
            profile.binSums[b] += x
        }
        return profile
    }

    /// Builds a categorical profile; `nil` entries are missing values. Categories beyond
    /// `maxCategories` (least frequent first) are folded into the "other" bin.
    package static func categorical(name: String, values: [String?], maxCategories: Int = 200) -> FeatureProfile {
        var counts: [String: Int] = [:]
        var missing = 0
        for v in values {
            if let v { counts[v, default: 0] += 1 } else { missing += 1 }
        }
        let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let kept = ordered.prefix(maxCategories)
        var binCounts = kept.map { Double($0.value) }
        binCounts.append(Double(ordered.dropFirst(maxCategories).reduce(0) { $0 + $1.value }))
        return FeatureProfile(
            name: name, kind: .categorical, count: values.count - missing, missing: missing, uniqueCount: counts.count,
            mean: 0, standardDeviation: 0, minimum: 0, maximum: 0, discrete: true, edges: [],
            categories: kept.map(\.key), binCounts: binCounts,
            binSums: [Double](repeating: 0, count: binCounts.count), sample: nil)
    }
}
