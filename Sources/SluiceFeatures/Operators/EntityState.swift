/// The feature state of one entity: what the engine needs to compute its next feature values.
///
/// It grows with activity only: sliding windows store just the tiles that received events (one tile
/// sequence per distinct window, shared by the features on it), and `evict(olderThan:)` drops tiles no
/// future non-late event can see. Create it with `FeatureEngine.makeState()` or restore it with
/// `init(deserializing:engine:)`.
///
/// Storage (a handful of arrays, whatever the number of tiles; see `WindowGroup` for the word layout):
/// - `words`: every numeric accumulator — the lifetime features', then per window group a hot block
///   (shape, the cached prefix, the newest tile, the distinct unions' summaries), then every group's
///   older tiles as compact records;
/// - `values`: the kept field values: lifetime `value`/`last`, then per group with `last` members a
///   block of the prefix's values and each tile's;
/// - `sketchPool`: per group with `approx_distinct` members, every tile's sketch run and the window
///   unions' runs (`SketchRun`, `DistinctUnion`);
/// - `lifetimeSketches`: lifetime `approx_distinct` sketches.
package struct EntityState: Sendable {
    /// The engine's compiled features (shared storage), so eviction and serialization know the layout.
    let plan: FeaturePlan
    /// The largest event time applied so far; `Int64.min` before the first event.
    package internal(set) var latestEventTimeMillis: Int64 = .min
    /// Whether any event was applied.
    package internal(set) var hasEvents = false
    /// Accumulators, hot blocks and tile records (see the type's documentation).
    var words: [UInt64]
    /// Kept field values (see the type's documentation).
    var values: [FieldValue]
    /// Sketch runs of the sliding `approx_distinct` features.
    var sketchPool: [UInt16] = []
    /// Lifetime `approx_distinct` sketches (`CompiledFeature.sketchSlot`).
    var lifetimeSketches: [HyperLogLog]

    /// A new entity's state shares the plan's empty arrays (`FeaturePlan.emptyWords` …) until its first
    /// write copies them: building them here (`Array(repeating:count:)`) looked up the array's generic
    /// metadata in the runtime on every call, about 850 instructions each.
    init(plan: FeaturePlan) {
        self.plan = plan
        self.words = plan.emptyWords
        self.values = plan.emptyValues
        self.lifetimeSketches = plan.emptyLifetimeSketches
    }

    /// Creates the empty state of a new entity for `engine`.
    package init(engine: FeatureEngine) {
        self.init(plan: engine.plan)
    }

    /// Fingerprint of the feature specs this state was made for.
    var fingerprint: UInt64 { plan.fingerprint }

    /// Number of stored tile accumulators over all sliding features (tiles × features on them), for
    /// metrics and benchmarks.
    package var tileCount: Int {
        var total = 0
        for g in plan.groups {
            let shape = words[g.hotBase]
            total += (Int(shape >> 1) + Int(shape & 1)) * g.width
        }
        return total
    }

    /// Prefetches the lines `FeatureEngine.apply` reads of the state stored at `state` (see
    /// `EntityStateTable.prefetchState(at:)`), reading the arrays' storage addresses as raw bits:
    /// copying an array out would retain it, and a retain writes the very line being prefetched.
    ///
    /// Stage 0 asks for each array's header (count, capacity) and the word array's hot part; stage 1,
    /// issued later, reads the now-cached counts and asks for the ends: the newest cold records (the
    /// most often rolled group's run is last) and the sketch pool's tail (newest runs and unions).
    /// Offsets follow the standard library's array layout (a 32-byte header before the elements);
    /// were it to change, prefetching would only lose its effect: a prefetch never faults.
    @inline(__always)
    static func prefetchLines(ofStateAt state: UnsafeRawPointer, plan: FeaturePlan, stage: Int) {
        let hotWords = plan.fixedWords
        let words = state.load(fromByteOffset: plan.wordsOffset, as: UnsafeRawPointer?.self)
        let values = state.load(fromByteOffset: plan.valuesOffset, as: UnsafeRawPointer?.self)
        let pool = state.load(fromByteOffset: plan.poolOffset, as: UnsafeRawPointer?.self)
        guard let words, let values, let pool else { return }
        if stage == 0 {
            var offset = 0
            let end = 32 + hotWords * 8
            while offset < end {
                prefetch(words + offset)
                offset += 64
            }
            prefetch(values)
            prefetch(values + 32)
            prefetch(pool)
            return
        }
        // The used words end with the cold runs (spare zeros may follow, see `appendZeroWords`).
        let hotEnd = 32 + hotWords * 8
        let usedEnd = plan.shapeOffsetsAndStrides.withUnsafeBufferPointer { g in
            var end = hotEnd
            var i = 0
            while i + 1 < g.count {
                end += Int(truncatingIfNeeded: words.load(fromByteOffset: g[i], as: UInt64.self) >> 1) * g[i + 1]
                i += 2
            }
            return end
        }
        if usedEnd > hotEnd {
            prefetch(words + usedEnd - 8)
            prefetch(words + Swift.max(hotEnd, usedEnd - 64))
        }
        let poolCount = pool.load(fromByteOffset: 16, as: Int.self)
        if poolCount > 0 {
            prefetch(pool + 32 + (poolCount - 1) * 2)
            if poolCount > 32 { prefetch(pool + 32 + (poolCount - 33) * 2) }
        }
    }

    static let wordsOffset = MemoryLayout<EntityState>.offset(of: \EntityState.words)!
    static let valuesOffset = MemoryLayout<EntityState>.offset(of: \EntityState.values)!
    static let poolOffset = MemoryLayout<EntityState>.offset(of: \EntityState.sketchPool)!

    /// Drops every tile that lies wholly before `watermarkMillis − window` for its feature.
    ///
    /// Call it after each micro-batch with the partition watermark (`LatenessTracker.watermark`). A
    /// non-late event (time ≥ watermark) never reads those tiles, so outputs are unchanged.
    package mutating func evict(olderThan watermarkMillis: Int64) {
        if watermarkMillis == .min { return }
        for gi in plan.groups.indices {
            let g = plan.groups[gi]
            let (cutoff, overflow) = CompiledFeature.tileIndex(watermarkMillis, g.tileMillis).subtractingReportingOverflow(g.tilesPerWindow)
            let shape = words[g.hotBase]
            if overflow || shape & 1 == 0 { continue }
            let cold = Int(shape >> 1)
            let first = cold > 0 ? Int64(bitPattern: words[coldStart(gi)]) : Int64(bitPattern: words[g.newest])
            if first <= cutoff { dropTiles(gi, through: cutoff) }
        }
    }
}
