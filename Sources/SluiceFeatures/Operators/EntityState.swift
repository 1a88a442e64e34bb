/// The feature state of one entity: what the engine needs to compute its next feature values.
///
/// It grows with activity only: sliding windows store just the tiles that received events (one tile
/// sequence per distinct window, shared by the features on it), and `evict(olderThan:)` drops tiles no
/// future non-late event can see. Create it with `FeatureEngine.makeState()` or restore it with
/// `init(deserializing:engine:)`.
package struct EntityState: Sendable {
    /// The engine's compiled features (shared storage), so eviction knows each window.
    let plan: FeaturePlan
    /// Fingerprint of the engine's feature specs.
    let fingerprint: UInt64
    /// The largest event time applied so far; `Int64.min` before the first event.
    package internal(set) var latestEventTimeMillis: Int64 = .min
    /// Whether any event was applied.
    package internal(set) var hasEvents = false
    /// The entity's hot block, one contiguous array: first the lifetime accumulators
    /// (`CompiledFeature.slot`; for `value` only `time` is used, the kept value's time; for
    /// `approx_distinct` `index` caches the rounded estimate, -1 when stale, derived), then per window
    /// group its meta record, prefix and newest tile (`WindowTiles`, `WindowGroup.hotBase`).
    var hot: [FeatureTile]
    /// Lifetime `last` values and `value` features' latest values (`CompiledFeature.valueSlot`).
    var lifetimeValues: [FieldValue]
    /// Lifetime `approx_distinct` sketches (`CompiledFeature.sketchSlot`).
    var lifetimeSketches: [HyperLogLog]
    /// One per `WindowGroup`.
    var windows: [WindowTiles]

    init(plan: FeaturePlan, fingerprint: UInt64) {
        self.plan = plan
        self.fingerprint = fingerprint
        var empty = FeatureTile()
        empty.index = -1
        let meta = WindowTiles.emptyMeta
        self.hot = [FeatureTile](unsafeUninitializedCapacity: plan.hotCount) { buffer, count in
            for i in 0..<plan.hotCount { buffer.initializeElement(at: i, to: empty) }
            for group in plan.groups { buffer[group.hotBase] = meta }
            count = plan.hotCount
        }
        self.lifetimeValues = plan.lifetimeValueCount == 0 ? [] : Array(repeating: .null, count: plan.lifetimeValueCount)
        self.lifetimeSketches = plan.lifetimeSketchCount == 0 ? [] : Array(repeating: HyperLogLog(), count: plan.lifetimeSketchCount)
        var windows: [WindowTiles] = []
        if !plan.groups.isEmpty {
            windows.reserveCapacity(plan.groups.count)
            for _ in plan.groups { windows.append(WindowTiles()) }
        }
        self.windows = windows
    }

    /// Creates the empty state of a new entity for `engine`.
    package init(engine: FeatureEngine) {
        self.init(plan: engine.plan, fingerprint: engine.fingerprint)
    }

    /// Number of stored tiles over all sliding features (for metrics and benchmarks).
    package var tileCount: Int {
        var total = 0
        for g in plan.groups.indices {
            let width = plan.groups[g].width
            let newest = hot[plan.groups[g].hotBase].time != 0 ? 1 : 0
            total += (windows[g].coldCount(width) + newest) * width
        }
        return total
    }

    /// Drops every tile that lies wholly before `watermarkMillis − window` for its feature.
    ///
    /// Call it after each micro-batch with the partition watermark (`LatenessTracker.watermark`). A
    /// non-late event (time ≥ watermark) never reads those tiles, so outputs are unchanged.
    package mutating func evict(olderThan watermarkMillis: Int64) {
        if watermarkMillis == .min { return }
        let groups = plan.groups
        var hot: [FeatureTile] = []
        swap(&hot, &self.hot)
        defer { swap(&hot, &self.hot) }
        hot.withUnsafeMutableBufferPointer { hotBuffer in
            guard let base = hotBuffer.baseAddress else { return }
            for g in groups.indices {
                let group = groups[g]
                let h = base + group.hotBase
                let (cutoff, overflow) = CompiledFeature.tileIndex(watermarkMillis, group.tileMillis).subtractingReportingOverflow(group.tilesPerWindow)
                if overflow || !WindowTiles.hasNewest(h) { continue }
                if windows[g].tileIndex(at: 0, group.width, h) <= cutoff {
                    _ = windows[g].dropTiles(through: cutoff, group, h)
                }
            }
        }
    }
}
