/// Exact drift tests on raw samples, as Evidently runs them on two data frames
/// (used by the parity tests; `sluice drift compare` runs the window path, `DriftComparison`).
///
/// The default test follows Evidently's `_get_default_stattest`, including its count
/// of distinct values over reference and current together. (Sliding windows select
/// by the reference's distinct count instead, so a feature's test stays stable while
/// the window moves.)
package enum ExactDrift {
    /// Runs the configured (or default) test for one feature.
    package static func evaluate(feature: String, reference: FeatureColumn, current: FeatureColumn, configuration: DriftConfiguration = DriftConfiguration()) -> DriftTestResult {
        switch (reference, current) {
        case (.numerical(let r), .numerical(let c)):
            let a = r.filter { !$0.isNaN }.sorted()
            let b = c.filter { !$0.isNaN }.sorted()
            // Evidently counts distinct values over reference and current together.
            let unique = EvidentlyBinning.distinctCount(sorted: (a + b).sorted())
            let choice = configuration.resolve(feature: feature, referenceSize: a.count, kind: .numerical, uniqueCount: unique)
            return run(test: choice.test, threshold: choice.threshold, reference: a, current: b, chiSquareMode: configuration.chiSquareMode)
        default:
            let (r, c) = codes(reference, current)
            let unique = Set(r).union(c).count
            let choice = configuration.resolve(feature: feature, referenceSize: r.count, kind: .categorical, uniqueCount: unique)
            return run(test: choice.test, threshold: choice.threshold, reference: r.sorted(), current: c.sorted(), categorical: true, chiSquareMode: configuration.chiSquareMode)
        }
    }

    /// Runs `test` on sorted numeric samples (categories as codes when `categorical`).
    package static func run(test: DriftTest, threshold: Double, reference a: [Double], current b: [Double], categorical: Bool = false, chiSquareMode: ChiSquareMode = .goodnessOfFit) -> DriftTestResult {
        switch test {
        case .kolmogorovSmirnov:
            return DriftStatistics.kolmogorovSmirnov(sortedReference: a, sortedCurrent: b, threshold: threshold)
        case .wasserstein:
            let w = DriftStatistics.wassersteinDistance(sortedReference: a, sortedCurrent: b)
            let std = DriftStatistics.populationStandardDeviation(a)
            return DriftTestResult(test: .wasserstein, statistic: w / max(std, 0.001), pValue: nil, threshold: threshold)
        case .chiSquare, .zTest:
            let (r, c) = EvidentlyBinning.binnedCounts(reference: a, current: b, numerical: false)
            if test == .chiSquare && chiSquareMode == .homogeneity {
                return DriftStatistics.chiSquareHomogeneity(referenceCounts: r, currentCounts: c, threshold: threshold)
            }
            if test == .chiSquare {
                return DriftStatistics.chiSquare(referenceCounts: r, currentCounts: c, threshold: threshold)
            }
            return DriftStatistics.zTest(referenceFirst: r.first ?? 0, referenceTotal: Double(a.count), currentFirst: c.first ?? 0, currentTotal: Double(b.count), threshold: threshold)
        case .jensenShannon:
            let (r, c) = EvidentlyBinning.binnedCounts(reference: a, current: b, numerical: !categorical)
            return DriftStatistics.jensenShannon(referenceCounts: r, currentCounts: c, threshold: threshold)
        case .psi:
            let (r, c) = EvidentlyBinning.binnedCounts(reference: a, current: b, numerical: !categorical)
            return DriftStatistics.psi(referenceCounts: r, currentCounts: c, threshold: threshold)
        }
    }

    /// Maps categories to codes by sorted category name, so code order is name order
    /// (Evidently's Z-test uses the smallest key as "first").
    private static func codes(_ reference: FeatureColumn, _ current: FeatureColumn) -> ([Double], [Double]) {
        func strings(_ c: FeatureColumn) -> [String] {
            switch c {
            case .categorical(let v): v.compactMap { $0 }
            case .numerical(let v): v.filter { !$0.isNaN }.map { "\($0)" }
            }
        }
        let r = strings(reference), c = strings(current)
        let names = Array(Set(r).union(c)).sorted()
        var index: [String: Double] = [:]
        for (i, n) in names.enumerated() { index[n] = Double(i) }
        return (r.map { index[$0] ?? 0 }, c.map { index[$0] ?? 0 })
    }
}
