/// One entity's tiles of one `WindowGroup`, split between the entity's hot block and cold arrays.
///
/// The group's block in `EntityState.hot` (starting at `WindowGroup.hotBase`) holds, contiguously:
/// - a meta record: `index` = the newest stored tile's index, `time` = 1 when a tile is stored (else 0),
///   `n` = `prefixEnd`;
/// - the prefix: per member, the fold of the window's tiles before the newest one, i.e. of the tiles in
///   (prefixEnd − n, prefixEnd − 1] (valid only while prefixEnd != .min);
/// - the newest tile's accumulators, one per member.
///
/// So an in-order event into the current tile touches only the hot block. Older tiles live here in
/// `accumulators` (`width` per tile, ascending tile index, each carrying its tile index). Logical tile
/// positions 0 ..< count cover the older tiles then the newest. `values` holds the `last` members' values
/// (a prefix block, then `valueCount` per logical tile) and `sketches` the `approx_distinct` members'
/// sketches (`sketchCount` per logical tile). Only tiles that received events are stored.
///
/// The prefix is a pure function of the tiles (recomputed or extended in the same order, never patched),
/// so results never depend on history, eviction or restore.
struct WindowTiles: Sendable {
    var accumulators: [FeatureTile] = []
    var values: [FieldValue] = []
    var sketches: [HyperLogLog] = []
    /// One per sketch member (derived, not serialized).
    var distinct: [DistinctSlot] = []

    typealias Op = CompiledFeature.Op

    // MARK: hot block layout

    /// The meta record of a group's empty hot block.
    static var emptyMeta: FeatureTile {
        var meta = FeatureTile()
        meta.index = 0
        meta.n = .min
        meta.time = 0
        return meta
    }

    @inline(__always) static func hasNewest(_ h: UnsafePointer<FeatureTile>) -> Bool { h[0].time != 0 }
    @inline(__always) static func newestIndex(_ h: UnsafePointer<FeatureTile>) -> Int64 { h[0].index }
    @inline(__always) static func prefixEnd(_ h: UnsafePointer<FeatureTile>) -> Int64 { h[0].n }
    @inline(__always) static func prefix(_ j: Int) -> Int { 1 + j }
    @inline(__always) static func newest(_ j: Int, _ w: Int) -> Int { 1 + w + j }

    // MARK: logical tiles

    @inline(__always)
    func coldCount(_ w: Int) -> Int { accumulators.count / w }

    /// Number of stored tiles (older ones plus the newest).
    @inline(__always)
    func tileCount(_ w: Int, _ h: UnsafePointer<FeatureTile>) -> Int {
        coldCount(w) + (Self.hasNewest(h) ? 1 : 0)
    }

    /// Tile index of logical tile `p`.
    @inline(__always)
    func tileIndex(at p: Int, _ w: Int, _ h: UnsafePointer<FeatureTile>) -> Int64 {
        p < coldCount(w) ? accumulators[p * w].index : Self.newestIndex(h)
    }

    /// Member `j`'s accumulator of logical tile `p`.
    @inline(__always)
    func accumulator(at p: Int, _ j: Int, _ w: Int, _ h: UnsafePointer<FeatureTile>) -> FeatureTile {
        p < coldCount(w) ? accumulators[p * w + j] : h[Self.newest(j, w)]
    }

    /// First older-tile position whose tile index is ≥ k (binary search over the older tiles only).
    @inline(__always)
    func coldLowerBound(_ k: Int64, _ w: Int) -> Int {
        accumulators.withUnsafeBufferPointer { a in
            var lo = 0
            var hi = a.count / w
            // The usual cases touch one end of the (recently written) array only.
            if hi == 0 || a[(hi - 1) * w].index < k { return hi }
            if a[0].index >= k { return 0 }
            while lo < hi {
                let mid = (lo + hi) >> 1
                if a[mid * w].index < k { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
    }

    /// First logical position whose tile index is ≥ k.
    @inline(__always)
    func lowerBound(_ k: Int64, _ w: Int, _ h: UnsafePointer<FeatureTile>) -> Int {
        let p = coldLowerBound(k, w)
        if p == coldCount(w) && Self.hasNewest(h) && Self.newestIndex(h) < k { return p + 1 }
        return p
    }

    // MARK: apply

    /// Applies one event at time `t` to the group's tile and writes its members' values into `out`.
    ///
    /// `h` is the group's hot block, `fields` the event's fields pre-classified (`EventField`), `ev` the raw
    /// values (read only by `last` and `approx_distinct`).
    mutating func apply(
        _ g: WindowGroup, hot h: UnsafeMutablePointer<FeatureTile>, members: UnsafeBufferPointer<Int>,
        features: UnsafeBufferPointer<CompiledFeature>, fields: UnsafeBufferPointer<EventField>,
        event ev: UnsafeBufferPointer<FieldValue>, time t: Int64, output out: UnsafeMutableBufferPointer<FieldValue>
    ) {
        let k = CompiledFeature.tileIndex(t, g.tileMillis)
        let n = g.tilesPerWindow
        let w = g.width
        let vc = g.valueCount
        let sc = g.sketchCount
        let p: Int
        let isNewest: Bool
        if Self.hasNewest(h) && k == Self.newestIndex(h) {
            p = coldCount(w)
            isNewest = true
        } else if !Self.hasNewest(h) || k > Self.newestIndex(h) {
            // A new newest tile: the current newest (if any) joins the older tiles.
            if values.isEmpty && vc > 0 { values.append(contentsOf: repeatElement(FieldValue.null, count: vc)) }
            if Self.hasNewest(h) {
                if accumulators.isEmpty { accumulators.reserveCapacity(4 * w) }
                accumulators.append(contentsOf: UnsafeBufferPointer(start: h + Self.newest(0, w), count: w))
            }
            var tile = FeatureTile()
            tile.index = k
            for j in 0..<w { h[Self.newest(j, w)] = tile }
            h[0].index = k
            h[0].time = 1
            if vc > 0 { values.append(contentsOf: repeatElement(FieldValue.null, count: vc)) }
            if sc > 0 { sketches.append(contentsOf: repeatElement(HyperLogLog(), count: sc)) }
            p = coldCount(w)
            isNewest = true
        } else {
            // Out of order into an older tile, created when needed.
            let q = coldLowerBound(k, w)
            if q == coldCount(w) || accumulators[q * w].index != k {
                var tile = FeatureTile()
                tile.index = k
                accumulators.insert(contentsOf: repeatElement(tile, count: w), at: q * w)
                if vc > 0 { values.insert(contentsOf: repeatElement(FieldValue.null, count: vc), at: (q + 1) * vc) }
                if sc > 0 { sketches.insert(contentsOf: repeatElement(HyperLogLog(), count: sc), at: q * sc) }
            }
            p = q
            isNewest = false
        }
        if isNewest {
            if Self.prefixEnd(h) != k { advancePrefix(end: k, g, h, members: members, features: features) }
        } else {
            let end = Self.prefixEnd(h)
            // The cached prefix covers the changed older tile.
            if end != .min && k > end &- n && k < end { h[0].n = .min }
        }
        var special = false
        if isNewest {
            for j in 0..<w {
                let i = members[g.memberStart + j]
                let f = features[i]
                if f.op == .last || f.op == .approxDistinct {
                    special = true
                    continue
                }
                let field = f.field >= 0 && f.field < fields.count ? fields[f.field] : EventField.null
                _ = h[Self.newest(j, w)].add(f.op, field, time: t)
                var total = h[Self.prefix(j)]
                _ = total.merge(f.op, h[Self.newest(j, w)])
                out[i] = total.output(f.op, last: .null)
            }
        } else {
            let first = coldLowerBound(k &- n &+ 1, w)
            accumulators.withUnsafeMutableBufferPointer { acc in
                for j in 0..<w {
                    let i = members[g.memberStart + j]
                    let f = features[i]
                    if f.op == .last || f.op == .approxDistinct {
                        special = true
                        continue
                    }
                    let field = f.field >= 0 && f.field < fields.count ? fields[f.field] : EventField.null
                    _ = acc[p * w + j].add(f.op, field, time: t)
                    var total = FeatureTile()
                    var q = first
                    while q <= p {
                        _ = total.merge(f.op, acc[q * w + j])
                        q += 1
                    }
                    out[i] = total.output(f.op, last: .null)
                }
            }
        }
        if !special { return }
        if distinct.count != sc { distinct = Array(repeating: DistinctSlot(), count: sc) }
        for j in 0..<w {
            let i = members[g.memberStart + j]
            let f = features[i]
            if f.op != .last && f.op != .approxDistinct { continue }
            let v: FieldValue = f.field >= 0 && f.field < ev.count ? ev[f.field] : .null
            let replaced = isNewest ? h[Self.newest(j, w)].add(f.op, v, time: t) : accumulators[p * w + j].add(f.op, v, time: t)
            if replaced { values[(p + 1) * vc + f.valueSlot] = v }
            if f.op == .approxDistinct {
                let d = f.sketchSlot
                if let hash = v.stableHash {
                    let (index, rank, changed) = sketches[p * sc + d].insert(hash: hash)
                    if changed {
                        distinct[d].memoEnd = .min
                        if let end = distinct[d].cache?.end, k > end &- n, k <= end {
                            distinct[d].cache?.raise(index: index, rank: rank)
                        }
                    }
                }
                out[i] = .int(distinctEstimate(d, end: k, isNewest: isNewest, g, UnsafePointer(h)))
                continue
            }
            if isNewest {
                var acc = h[Self.prefix(j)]
                var last = values[f.valueSlot]
                if acc.merge(f.op, h[Self.newest(j, w)]) { last = values[(p + 1) * vc + f.valueSlot] }
                out[i] = acc.output(f.op, last: last)
            } else {
                let (acc, last) = fold(f.op, column: j, valueSlot: f.valueSlot, lo: k &- n, hi: k, g, UnsafePointer(h))
                out[i] = acc.output(f.op, last: last)
            }
        }
    }

    /// Folds, in ascending tile order, member `column`'s accumulators of the tiles with index in (lo, hi].
    func fold(_ op: Op, column j: Int, valueSlot vs: Int, lo: Int64, hi: Int64, _ g: WindowGroup, _ h: UnsafePointer<FeatureTile>) -> (FeatureTile, FieldValue) {
        var acc = FeatureTile()
        var value: FieldValue = .null
        let w = g.width
        let count = tileCount(w, h)
        var p = lowerBound(lo &+ 1, w, h)
        while p < count {
            let tile = accumulator(at: p, j, w, h)
            if tile.index > hi { break }
            if acc.merge(op, tile) && op == .last { value = values[(p + 1) * g.valueCount + vs] }
            p += 1
        }
        return (acc, value)
    }

    /// Makes the prefix the fold of the tiles in (end − n, end − 1] for every member.
    ///
    /// One pass over the tiles; each member's accumulator sees its tiles in ascending order, exactly the
    /// operations of a per-member left fold.
    private mutating func refreshPrefix(end: Int64, _ g: WindowGroup, _ h: UnsafeMutablePointer<FeatureTile>, members: UnsafeBufferPointer<Int>, features: UnsafeBufferPointer<CompiledFeature>) {
        let w = g.width
        for j in 0..<w { h[Self.prefix(j)] = FeatureTile() }
        for v in 0..<g.valueCount { values[v] = .null }
        let start = lowerBound(end &- g.tilesPerWindow &+ 1, w, UnsafePointer(h))
        foldIntoPrefix(from: start, through: end &- 1, g, h, members: members, features: features)
        h[0].n = end
    }

    /// Merges, in ascending order, every stored tile from logical position `start` with index ≤ `hi` into
    /// the prefix.
    @inline(__always)
    private mutating func foldIntoPrefix(from start: Int, through hi: Int64, _ g: WindowGroup, _ h: UnsafeMutablePointer<FeatureTile>, members: UnsafeBufferPointer<Int>, features: UnsafeBufferPointer<CompiledFeature>) {
        let w = g.width
        let vc = g.valueCount
        let cold = coldCount(w)
        var p = start
        while p < cold {
            let base = p * w
            if accumulators[base].index > hi { break }
            for j in 0..<w {
                let f = features[members[g.memberStart + j]]
                if h[Self.prefix(j)].merge(f.op, accumulators[base + j]) && f.op == .last {
                    values[f.valueSlot] = values[(p + 1) * vc + f.valueSlot]
                }
            }
            p += 1
        }
        if p == cold && Self.hasNewest(h) && Self.newestIndex(h) <= hi {
            for j in 0..<w {
                let f = features[members[g.memberStart + j]]
                if h[Self.prefix(j)].merge(f.op, h[Self.newest(j, w)]) && f.op == .last {
                    values[f.valueSlot] = values[(p + 1) * vc + f.valueSlot]
                }
            }
        }
    }

    /// Makes the prefix the fold of the tiles in (end − n, end − 1], extending the current prefix when possible.
    ///
    /// When the prefix is valid for an earlier end and no stored tile leaves the window, continuing the
    /// left fold with the tiles in [old end, end − 1] performs exactly the operations a fresh fold would,
    /// so the result is bit-identical to a refresh (history independence is kept).
    private mutating func advancePrefix(end: Int64, _ g: WindowGroup, _ h: UnsafeMutablePointer<FeatureTile>, members: UnsafeBufferPointer<Int>, features: UnsafeBufferPointer<CompiledFeature>) {
        let oldEnd = Self.prefixEnd(h)
        let n = g.tilesPerWindow
        let w = g.width
        if oldEnd != .min && oldEnd < end {
            let count = tileCount(w, h)
            // Any stored tile in (oldEnd − n, end − n] would leave the window.
            let first = lowerBound(oldEnd &- n &+ 1, w, h)
            if first == count || tileIndex(at: first, w, h) > end &- n {
                let start = lowerBound(oldEnd, w, h)
                foldIntoPrefix(from: start, through: end &- 1, g, h, members: members, features: features)
                h[0].n = end
                return
            }
        }
        refreshPrefix(end: end, g, h, members: members, features: features)
    }

    /// Drops tiles with index ≤ `cutoff`; returns the number of tiles dropped.
    mutating func dropTiles(through cutoff: Int64, _ g: WindowGroup, _ h: UnsafeMutablePointer<FeatureTile>) -> Int {
        let w = g.width
        let k = lowerBound(cutoff &+ 1, w, h)
        if k == 0 { return 0 }
        if k > coldCount(w) {
            // The newest tile goes too, hence every tile.
            accumulators.removeAll(keepingCapacity: true)
            h[0].time = 0
        } else {
            accumulators.removeSubrange(0..<k * w)
        }
        if g.valueCount > 0 { values.removeSubrange(g.valueCount..<(k + 1) * g.valueCount) }
        if g.sketchCount > 0 { sketches.removeSubrange(0..<k * g.sketchCount) }
        h[0].n = .min
        for d in distinct.indices { distinct[d] = DistinctSlot() }
        return k
    }

    // MARK: approx_distinct

    /// Number of stored sketch entries of member `d` over the tiles in (lo, hi].
    private func sketchLoad(_ d: Int, lo: Int64, hi: Int64, _ g: WindowGroup, _ h: UnsafePointer<FeatureTile>) -> Int {
        var total = 0
        let count = tileCount(g.width, h)
        var p = lowerBound(lo &+ 1, g.width, h)
        while p < count && tileIndex(at: p, g.width, h) <= hi {
            total += sketches[p * g.sketchCount + d].storedEntryCount
            p += 1
        }
        return total
    }

    /// The rounded distinct estimate of sketch member `d` over the tiles in (end − n, end].
    mutating func distinctEstimate(_ d: Int, end: Int64, isNewest: Bool, _ g: WindowGroup, _ h: UnsafePointer<FeatureTile>) -> Int64 {
        if distinct[d].memoEnd == end { return distinct[d].memo }
        let estimate = computeDistinctEstimate(d, end: end, isNewest: isNewest, g, h)
        distinct[d].memoEnd = end
        distinct[d].memo = estimate
        return estimate
    }

    /// Uses (and, for the newest window, builds) the union cache when the window holds many entries,
    /// otherwise unions the tiles afresh; both give the same number.
    private mutating func computeDistinctEstimate(_ d: Int, end: Int64, isNewest: Bool, _ g: WindowGroup, _ h: UnsafePointer<FeatureTile>) -> Int64 {
        if distinct[d].cache?.end == end, let estimate = distinct[d].cache?.currentEstimate() {
            return estimate
        }
        let lo = end &- g.tilesPerWindow
        if isNewest, var cache = distinct[d].cache, cache.end < end {
            // The window moved forward. When no stored tile left it, the union of the new window is the
            // old union plus the tiles in (old end, end]: register maxima are exact and order-independent.
            let w = g.width
            let n = g.tilesPerWindow
            let count = tileCount(w, h)
            let first = lowerBound(cache.end &- n &+ 1, w, h)
            if first == count || tileIndex(at: first, w, h) > end &- n {
                distinct[d].cache = nil
                var p = lowerBound(cache.end &+ 1, w, h)
                while p < count && tileIndex(at: p, w, h) <= end {
                    sketches[p * g.sketchCount + d].forEachRegister { i, r in cache.raise(index: i, rank: r) }
                    p += 1
                }
                cache.end = end
                let estimate = cache.currentEstimate()
                distinct[d].cache = cache
                return estimate
            }
        }
        if isNewest && sketchLoad(d, lo: lo, hi: end, g, h) > DistinctWindowCache.rebuildThreshold {
            var cache = distinct[d].cache ?? DistinctWindowCache(end: end)
            distinct[d].cache = nil
            cache.reset(end: end)
            let count = tileCount(g.width, h)
            var p = lowerBound(lo &+ 1, g.width, h)
            while p < count && tileIndex(at: p, g.width, h) <= end {
                sketches[p * g.sketchCount + d].forEachRegister { i, r in cache.raise(index: i, rank: r) }
                p += 1
            }
            let estimate = cache.currentEstimate()
            distinct[d].cache = cache
            return estimate
        }
        if isNewest { distinct[d].cache = nil }
        return unionEstimate(d, lo: lo, hi: end, g, h)
    }

    /// Unions member `d`'s sketches of the tiles in (lo, hi] in scratch memory and estimates.
    func unionEstimate(_ d: Int, lo: Int64, hi: Int64, _ g: WindowGroup, _ h: UnsafePointer<FeatureTile>) -> Int64 {
        let first = lowerBound(lo &+ 1, g.width, h)
        let count = tileCount(g.width, h)
        var last = first
        while last < count && tileIndex(at: last, g.width, h) <= hi { last += 1 }
        if first == last { return 0 }
        let sc = g.sketchCount
        var total = 0
        for p in first..<last {
            let sketch = sketches[p * sc + d]
            if sketch.isDense { total = Int.max; break }
            total += sketch.storedEntryCount
        }
        if total <= DistinctWindowCache.rebuildThreshold {
            return smallUnionEstimate(d, first: first, last: last, total: total, g)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HyperLogLog.registerCount) { regs in
            regs.initialize(repeating: 0)
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: HyperLogLog.maxRank + 1) { hist in
                hist.initialize(repeating: 0)
                var anyDense = false
                for p in first..<last {
                    let sketch = sketches[p * sc + d]
                    anyDense = anyDense || sketch.isDense
                    sketch.forEachRegister { i, r in if regs[i] < r { regs[i] = r } }
                }
                if anyDense {
                    for i in 0..<regs.count { hist[Int(regs[i])] += 1 }
                } else {
                    // Visit each touched register once (clearing it), so the cost stays O(entries).
                    var set: Int32 = 0
                    for p in first..<last {
                        sketches[p * sc + d].forEachRegister { i, _ in
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
    private func smallUnionEstimate(_ d: Int, first: Int, last: Int, total: Int, _ g: WindowGroup) -> Int64 {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Swift.max(total, 1)) { entries in
            var count = 0
            for p in first..<last {
                sketches[p * g.sketchCount + d].forEachEntry { e in
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
}
