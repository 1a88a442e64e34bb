/// The outcome of evaluating a whole window against the reference profile.
package struct WindowEvaluation: Codable, Sendable, Equatable {
    /// Per-feature results, in profile order.
    package var features: [FeatureDriftResult]
    /// Number of drifted features.
    package var driftedFeatures: Int
    /// Dataset-level drift (share of drifted features ≥ the configured share).
    package var datasetDrifted: Bool
    /// Events in the window.
    package var events: Int
    /// Event time span covered (time windows) or event ordinals (count windows): [start, end).
    package var start: Double
    package var end: Double
}
