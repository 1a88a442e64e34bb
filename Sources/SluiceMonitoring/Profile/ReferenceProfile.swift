/// The reference profile of a model's features; stored as JSON in PostgreSQL.
package struct ReferenceProfile: Codable, Sendable, Equatable {
    /// Where the reference came from (e.g. a snapshot id or file name).
    package var source: String
    /// Feature profiles in the order events provide their values.
    package var features: [FeatureProfile]

    package init(source: String, features: [FeatureProfile]) {
        self.source = source
        self.features = features
    }

    /// Number of reference rows (the largest feature count including missing values).
    package var events: Int { features.map { $0.count + $0.missing }.max() ?? 0 }
}

extension ReferenceProfile {
    /// Builds a profile from raw reference columns, in the given order.
    /// - Parameters:
    ///   - bins: quantile bins per continuous numerical feature.
    ///   - maxCategories: categories kept per categorical feature (the rest is "other").
    ///   - exactEdgeLimit: numerical references with at most this many distinct values use every value as an edge.
    ///   - sampleCap: keep a numerical feature's exact sorted sample up to this size.
    package static func build(
        source: String, columns: [(name: String, values: FeatureColumn)],
        bins: Int = 200, maxCategories: Int = 200, exactEdgeLimit: Int = 1000, sampleCap: Int = 1000
    ) -> ReferenceProfile {
        let features = columns.map { column -> FeatureProfile in
            switch column.values {
            case .numerical(let v): FeatureProfile.numerical(name: column.name, values: v, bins: bins, exactEdgeLimit: exactEdgeLimit, sampleCap: sampleCap)
            case .categorical(let v): FeatureProfile.categorical(name: column.name, values: v, maxCategories: maxCategories)
            }
        }
        return ReferenceProfile(source: source, features: features)
    }
}
