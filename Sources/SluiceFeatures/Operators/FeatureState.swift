/// The state of one feature of one entity.
///
/// Sliding windows keep only tiles that received events, sorted by tile index. `prefix` caches the fold of
/// the window's tiles before the newest one so that an in-order event costs O(1); it is a pure function of
/// the tiles (recomputed, never patched, when they change) so results never depend on history.
struct FeatureState: Sendable {
    /// Lifetime accumulator, or for `value` the latest event's time (in `time`).
    var lifetime = FeatureTile()
    /// `last` (lifetime) value, or for `value` the latest event's value.
    var lifetimeValue: FieldValue = .null
    var lifetimeSketch = HyperLogLog()
    /// Cached rounded estimate of `lifetimeSketch`, -1 when stale (derived, not serialized).
    var lifetimeEstimate: Int64 = -1

    var tiles: [FeatureTile] = []
    /// Parallel to `tiles` for `last`, else empty.
    var tileValues: [FieldValue] = []
    /// Parallel to `tiles` for `approx_distinct`, else empty.
    var tileSketches: [HyperLogLog] = []

    /// Fold of the tiles in (prefixEnd − n, prefixEnd − 1]; valid only while prefixEnd != .min.
    var prefix = FeatureTile()
    var prefixValue: FieldValue = .null
    var prefixEnd: Int64 = .min
    var distinct: DistinctWindowCache? = nil
    /// The last sliding distinct estimate and the window end it was computed for; reset by any sketch
    /// change or eviction (derived, not serialized).
    var distinctMemoEnd: Int64 = .min
    var distinctMemo: Int64 = 0

    /// Position of tile `k`, inserting an empty tile when it does not exist yet.
    @inline(__always)
    mutating func tilePosition(for k: Int64, op: CompiledFeature.Op) -> Int {
        let count = tiles.count
        if count > 0 {
            let lastIndex = tiles[count - 1].index
            if lastIndex == k { return count - 1 }
            if lastIndex > k {
                let p = lowerBound(k)
                if p < count && tiles[p].index == k { return p }
                insertTile(k, at: p, op: op)
                return p
            }
        }
        insertTile(k, at: count, op: op)
        return count
    }

    private mutating func insertTile(_ k: Int64, at p: Int, op: CompiledFeature.Op) {
        var tile = FeatureTile()
        tile.index = k
        if p == tiles.count {
            tiles.append(tile)
            if op == .last { tileValues.append(.null) }
            if op == .approxDistinct { tileSketches.append(HyperLogLog()) }
        } else {
            tiles.insert(tile, at: p)
            if op == .last { tileValues.insert(.null, at: p) }
            if op == .approxDistinct { tileSketches.insert(HyperLogLog(), at: p) }
        }
    }

    /// First position whose tile index is ≥ k.
    @inline(__always)
    func lowerBound(_ k: Int64) -> Int {
        tiles.withUnsafeBufferPointer { t in
            var lo = 0
            var hi = t.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if t[mid].index < k { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
    }

    /// Folds, in ascending tile order, the tiles with index in (lo, hi].
    func fold(_ op: CompiledFeature.Op, lo: Int64, hi: Int64) -> (FeatureTile, FieldValue) {
        var acc = FeatureTile()
        var value: FieldValue = .null
        var p = lowerBound(lo &+ 1)
        let count = tiles.count
        while p < count && tiles[p].index <= hi {
            if acc.merge(op, tiles[p]) && op == .last { value = tileValues[p] }
            p += 1
        }
        return (acc, value)
    }

    /// Makes `prefix` the fold of the tiles in (end − n, end − 1].
    mutating func refreshPrefix(_ op: CompiledFeature.Op, end: Int64, n: Int64) {
        (prefix, prefixValue) = fold(op, lo: end &- n, hi: end &- 1)
        prefixEnd = end
    }

    /// Makes `prefix` the fold of the tiles in (end − n, end − 1], extending the current prefix when possible.
    ///
    /// When the prefix is valid for an earlier end and no stored tile leaves the window, continuing the
    /// left fold with the tiles in [old end, end − 1] performs exactly the operations a fresh fold would,
    /// so the result is bit-identical to `refreshPrefix` (history independence is kept).
    @inline(__always)
    mutating func advancePrefix(_ op: CompiledFeature.Op, end: Int64, n: Int64) {
        let oldEnd = prefixEnd
        if oldEnd != .min && oldEnd < end {
            // Any stored tile in (oldEnd − n, end − n] would leave the window.
            let first = lowerBound(oldEnd &- n &+ 1)
            if first == tiles.count || tiles[first].index > end &- n {
                var p = first
                while p < tiles.count && tiles[p].index < oldEnd { p += 1 }
                while p < tiles.count && tiles[p].index <= end &- 1 {
                    if prefix.merge(op, tiles[p]) && op == .last { prefixValue = tileValues[p] }
                    p += 1
                }
                prefixEnd = end
                return
            }
        }
        refreshPrefix(op, end: end, n: n)
    }

    /// Number of stored sketch entries over the tiles in (lo, hi], and whether any is dense.
    private func sketchLoad(lo: Int64, hi: Int64) -> Int {
        var total = 0
        var p = lowerBound(lo &+ 1)
        while p < tiles.count && tiles[p].index <= hi {
            total += tileSketches[p].storedEntryCount
            p += 1
        }
        return total
    }

    /// The rounded distinct estimate over the tiles in (end − n, end].
    ///
    /// Uses (and, for the newest window, builds) the union cache when the window holds many entries,
    /// otherwise unions the tiles afresh; both give the same number.
    mutating func distinctEstimate(end: Int64, n: Int64, isNewest: Bool) -> Int64 {
        if distinctMemoEnd == end { return distinctMemo }
        let estimate = computeDistinctEstimate(end: end, n: n, isNewest: isNewest)
        distinctMemoEnd = end
        distinctMemo = estimate
        return estimate
    }

    private mutating func computeDistinctEstimate(end: Int64, n: Int64, isNewest: Bool) -> Int64 {
        if let cache = distinct, cache.end == end {
            return distinct!.currentEstimate()
        }
        let lo = end &- n
        if isNewest && sketchLoad(lo: lo, hi: end) > DistinctWindowCache.rebuildThreshold {
            var cache = distinct ?? DistinctWindowCache(end: end)
            distinct = nil
            cache.end = end
            cache.estimate = -1
            for i in 0..<cache.registers.count { cache.registers[i] = 0 }
            for i in 0..<cache.histogram.count { cache.histogram[i] = 0 }
            cache.histogram[0] = Int32(HyperLogLog.registerCount)
            var p = lowerBound(lo &+ 1)
            while p < tiles.count && tiles[p].index <= end {
                tileSketches[p].forEachRegister { i, r in cache.raise(index: i, rank: r) }
                p += 1
            }
            distinct = cache
            return distinct!.currentEstimate()
        }
        if isNewest { distinct = nil }
        return unionEstimate(lo: lo, hi: end)
    }

    /// Unions the sketches of the tiles in (lo, hi] in scratch memory and estimates.
    func unionEstimate(lo: Int64, hi: Int64) -> Int64 {
        let first = lowerBound(lo &+ 1)
        var last = first
        while last < tiles.count && tiles[last].index <= hi { last += 1 }
        if first == last { return 0 }
        var total = 0
        for p in first..<last {
            if tileSketches[p].isDense { total = Int.max; break }
            total += tileSketches[p].storedEntryCount
        }
        if total <= DistinctWindowCache.rebuildThreshold {
            return smallUnionEstimate(first: first, last: last, total: total)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HyperLogLog.registerCount) { regs in
            regs.initialize(repeating: 0)
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: HyperLogLog.maxRank + 1) { hist in
                hist.initialize(repeating: 0)
                var anyDense = false
                for p in first..<last {
                    let sketch = tileSketches[p]
                    anyDense = anyDense || sketch.isDense
                    sketch.forEachRegister { i, r in if regs[i] < r { regs[i] = r } }
                }
                if anyDense {
                    for i in 0..<regs.count { hist[Int(regs[i])] += 1 }
                } else {
                    // Visit each touched register once (clearing it), so the cost stays O(entries).
                    var set: Int32 = 0
                    for p in first..<last {
                        tileSketches[p].forEachRegister { i, _ in
                            let r = regs[i]
                            if r != 0 {
                                hist[Int(r)] += 1
                                regs[i] = 0
                                set += 1
                            }
                        }
                    }
                    hist[0] = Int32(HyperLogLog.registerCount) - set
                }
                return HyperLogLog.rounded(HyperLogLog.estimate(histogram: UnsafeBufferPointer(hist)))
            }
        }
    }

    /// Union estimate of a few sparse sketches: sort their entries (index, then rank) and keep the last
    /// entry per register. Same histogram, hence the same estimate, as the dense union.
    private func smallUnionEstimate(first: Int, last: Int, total: Int) -> Int64 {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Swift.max(total, 1)) { entries in
            var count = 0
            for p in first..<last {
                tileSketches[p].forEachEntry { e in
                    // Insertion sort: totals are small (≤ rebuildThreshold).
                    var j = count
                    while j > 0 && entries[j - 1] > e {
                        entries[j] = entries[j - 1]
                        j -= 1
                    }
                    entries[j] = e
                    count += 1
                }
            }
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: HyperLogLog.maxRank + 1) { hist in
                hist.initialize(repeating: 0)
                var set: Int32 = 0
                var i = 0
                while i < count {
                    let index = entries[i] >> 6
                    if i + 1 == count || entries[i + 1] >> 6 != index {
                        hist[Int(entries[i] & 63)] += 1
                        set += 1
                    }
                    i += 1
                }
                hist[0] = Int32(HyperLogLog.registerCount) - set
                return HyperLogLog.rounded(HyperLogLog.estimate(histogram: UnsafeBufferPointer(hist)))
            }
        }
    }

    /// Drops tiles with index ≤ `cutoff`; returns whether any was dropped.
    mutating func dropTiles(through cutoff: Int64) -> Bool {
        let k = lowerBound(cutoff &+ 1)
        if k == 0 { return false }
        tiles.removeFirst(k)
        if !tileValues.isEmpty { tileValues.removeFirst(k) }
        if !tileSketches.isEmpty { tileSketches.removeFirst(k) }
        prefixEnd = .min
        prefix = FeatureTile()
        prefixValue = .null
        distinct = nil
        distinctMemoEnd = .min
        return true
    }
}
