/// A column of raw feature values, for exact (unbinned) drift tests.
package enum FeatureColumn: Sendable, Equatable {
    /// Numbers; NaN is missing.
    case numerical([Double])
    /// Categories; nil is missing.
    case categorical([String?])
}
