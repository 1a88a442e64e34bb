/// Per-feature contributions to one margin output of one row.
///
/// `bias + contributions.reduce(0, +)` equals the margin (raw score) of that output.
package struct Explanation: Sendable, Equatable {
    /// One contribution per model feature, in ``Model/featureNames`` order.
    package var contributions: [Double]
    /// The expected margin over the training data (plus the model's base score).
    package var bias: Double

    package init(contributions: [Double], bias: Double) {
        self.contributions = contributions
        self.bias = bias
    }

    /// The `k` features with the largest absolute contribution, largest first
    /// (ties keep feature order). Zero contributions are included only if needed to reach `k`.
    package func topK(_ k: Int) -> [FeatureContribution] {
        FeatureContribution.topK(k, of: contributions)
    }
}

/// One feature's contribution, as returned by ``Explanation/topK(_:)``.
package struct FeatureContribution: Sendable, Equatable {
    /// Index into ``Model/featureNames``.
    package var featureIndex: Int
    /// The contribution to the margin.
    package var contribution: Double

    package init(featureIndex: Int, contribution: Double) {
        self.featureIndex = featureIndex
        self.contribution = contribution
    }

    /// The `k` entries of `contributions` with the largest magnitude, sorted by |contribution| descending.
    package static func topK(_ k: Int, of contributions: some Collection<Double>) -> [FeatureContribution] {
        guard k > 0 else { return [] }
        var all = contributions.enumerated().map { FeatureContribution(featureIndex: $0.offset, contribution: $0.element) }
        all.sort { a, b in
            let ma = a.contribution.magnitude, mb = b.contribution.magnitude
            return ma != mb ? ma > mb : a.featureIndex < b.featureIndex
        }
        return Array(all.prefix(k))
    }
}
