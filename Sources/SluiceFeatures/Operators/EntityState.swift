/// The feature state of one entity: what the engine needs to compute its next feature values.
///
/// It grows with activity only: sliding windows store just the tiles that received events, and
/// `evict(olderThan:)` drops tiles no future non-late event can see. Create it with
/// `FeatureEngine.makeState()` or restore it with `init(deserializing:engine:)`.
package struct EntityState: Sendable {
    /// The engine's compiled features (shared storage), so eviction knows each window.
    let layout: [CompiledFeature]
    /// Fingerprint of the engine's feature specs.
    let fingerprint: UInt64
    /// The largest event time applied so far; `Int64.min` before the first event.
    package internal(set) var latestEventTimeMillis: Int64 = .min
    /// Whether any event was applied.
    package internal(set) var hasEvents = false
    /// One entry per feature spec.
    var features: [FeatureState]

    init(layout: [CompiledFeature], fingerprint: UInt64) {
        self.layout = layout
        self.fingerprint = fingerprint
        self.features = Array(repeating: FeatureState(), count: layout.count)
    }

    /// Creates the empty state of a new entity for `engine`.
    package init(engine: FeatureEngine) {
        self.init(layout: engine.layout, fingerprint: engine.fingerprint)
    }

    /// Number of stored tiles over all sliding features (for metrics and benchmarks).
    package var tileCount: Int {
        features.reduce(0) { $0 + $1.tiles.count }
    }

    /// Drops every tile that lies wholly before `watermarkMillis − window` for its feature.
    ///
    /// Call it after each micro-batch with the partition watermark (`LatenessTracker.watermark`). A
    /// non-late event (time ≥ watermark) never reads those tiles, so outputs are unchanged.
    package mutating func evict(olderThan watermarkMillis: Int64) {
        if watermarkMillis == .min { return }
        for i in layout.indices where layout[i].isSliding {
            let f = layout[i]
            let (cutoff, overflow) = CompiledFeature.tileIndex(watermarkMillis, f.tileMillis).subtractingReportingOverflow(f.tilesPerWindow)
            if overflow { continue }
            if let first = features[i].tiles.first, first.index <= cutoff {
                _ = features[i].dropTiles(through: cutoff)
            }
        }
    }
}
