/// Sliding windows on the word layout (see `WindowGroup` and `EntityState`).
///
/// The prefix record caches, per member, the fold of the window's tiles before the newest one. It is
/// extended with the tiles that enter the window when none leaves it and refolded from the tiles
/// otherwise, so it is always exactly the ascending left fold: results never depend on history,
/// eviction or restore.
extension EntityState {
    // MARK: offsets

    /// Offset in `words` of group `gi`'s first cold record (after the runs of the groups before it in
    /// `WindowGroup.coldOrder`).
    @inline(__always)
    func coldStart(_ gi: Int) -> Int {
        var start = plan.fixedWords
        let groups = plan.groups
        let order = groups[gi].coldOrder
        if order == 0 { return start }
        for h in groups.indices where groups[h].coldOrder < order {
            start += Int(truncatingIfNeeded: words[groups[h].hotBase] >> 1) * groups[h].stride
        }
        return start
    }

    /// Offset in `sketchPool` of group `gi`'s segment.
    @inline(__always)
    func poolStart(_ gi: Int) -> Int {
        var start = 0
        var h = 0
        while h < gi {
            start += Int(truncatingIfNeeded: words[plan.groups[h].hotBase + 1])
            h += 1
        }
        return start
    }

    /// Offset in `values` of group `gi`'s block (the prefix's values, then each tile's).
    @inline(__always)
    func valueStart(_ gi: Int) -> Int {
        var start = plan.lifetimeValueCount
        var h = 0
        while h < gi {
            let g = plan.groups[h]
            if g.valueCount > 0 {
                let shape = words[g.hotBase]
                start += (Int(truncatingIfNeeded: shape >> 1) + Int(truncatingIfNeeded: shape & 1) + 1) * g.valueCount
            }
            h += 1
        }
        return start
    }

    /// Words of `words` in use: the fixed part and every group's cold run. The words after them, up to
    /// `words.count`, are spare zeros (see `appendZeroWords`).
    @inline(__always)
    var usedWordCount: Int {
        var used = plan.fixedWords
        for g in plan.groups { used += Int(truncatingIfNeeded: words[g.hotBase] >> 1) * g.stride }
        return used
    }

    /// Appends at least `count` zero words: fills the capacity with zeros, growing it geometrically
    /// first when it lacks room. The words past `usedWordCount` are always zeros, so a tile record
    /// claims them by writing (no append per record; one call fills many records' room).
    @inline(__always)
    mutating func appendZeroWords(_ count: Int) {
        let needed = words.count + count
        if words.capacity < needed { words.reserveCapacity(Swift.max(needed, 2 * words.capacity)) }
        words.append(contentsOf: repeatElement(0, count: words.capacity - words.count))
    }

    /// Makes room for `count` zero words at `offset` (≤ `usedWordCount`), moving the used words after it up.
    @inline(__always)
    mutating func insertZeroWords(_ count: Int, at offset: Int) {
        let used = usedWordCount
        if words.count - used < count { appendZeroWords(count - (words.count - used)) }
        let tail = used - offset
        words.withUnsafeMutableBufferPointer { w in
            let base = w.baseAddress!
            if tail > 0 { (base + offset + count).update(from: base + offset, count: tail) }
            (base + offset).update(repeating: 0, count: count)
        }
    }

    // MARK: apply

    /// The common case, for every group at once: an in-order event into the newest tile of a group
    /// without `last` members, with a valid prefix, touches only the hot block (one pass, one view of
    /// the word array; "in the newest tile" is tested by multiplication, not division). Distinct members
    /// of those groups are left to `applyDistinctInNewest`.
    ///
    /// - Returns: a bit per group (groups 0 … 63) that still needs `applyWindow` (nothing of it was
    ///   changed), and a bit per group whose distinct members still need `applyDistinctInNewest`.
    @inline(__always)
    mutating func applyInNewestTiles(
        time t: Int64, groups: UnsafeBufferPointer<WindowGroup>,
        steps: UnsafeBufferPointer<MemberStep>, fields: UnsafeBufferPointer<EventField>,
        output out: UnsafeMutableBufferPointer<FieldValue>
    ) -> (slow: UInt64, distinct: UInt64) {
        words.withUnsafeMutableBufferPointer { w -> (UInt64, UInt64) in
            let base = w.baseAddress!
            var slow: UInt64 = 0
            var distinct: UInt64 = 0
            for gi in groups.indices {
                let g = groups[gi]
                let bit: UInt64 = gi < 64 ? 1 << UInt64(gi) : 0
                let k = Int64(bitPattern: base[g.newest])
                // t is in tile k when (k − 1)·r < t ≤ k·r.
                let (upper, overflow) = k.multipliedReportingOverflow(by: g.tileMillis)
                guard gi < 64, g.valueCount == 0, base[g.hotBase] & 1 == 1, !overflow, t <= upper, t > upper &- g.tileMillis,
                      Int64(bitPattern: base[g.prefix]) == k else {
                    slow |= bit
                    continue
                }
                let record = base + g.newest
                let prefix = base + g.prefix
                for m in steps[g.memberStart..<g.memberStart + g.width] {
                    let field = fields[Int(m.field)]
                    let word = Int(m.word)
                    if m.op == .approxDistinct {
                        if !field.isNull { record[word] &+= 1 }
                        distinct |= bit
                        continue
                    }
                    out.put(Int(m.feature), FeatureTile.addToNewest(m.op, field, time: t, newest: record + word, prefix: prefix + word))
                }
            }
            return (slow, distinct)
        }
    }

    /// The distinct members of group `gi` for an in-order event into its newest tile, after
    /// `applyInNewestTiles` counted the event.
    mutating func applyDistinctInNewest(
        _ gi: Int, features: UnsafeBufferPointer<CompiledFeature>, steps: UnsafeBufferPointer<MemberStep>,
        event ev: UnsafeBufferPointer<FieldValue>, output out: UnsafeMutableBufferPointer<FieldValue>
    ) {
        let g = plan.groups[gi]
        let k = Int64(bitPattern: words[g.newest])
        let cold = Int(truncatingIfNeeded: words[g.hotBase] >> 1)
        for m in steps[g.memberStart..<g.memberStart + g.width] where m.op == .approxDistinct {
            let i = Int(m.feature)
            let f = features[i]
            // Hashed in place: a copy of the value would cost an outlined copy per event.
            let hash: UInt64? = f.field >= 0 && f.field < ev.count ? ev.baseAddress![f.field].stableHash : nil
            guard let hash else {
                out.put(i, .int(windowEstimate(gi, g, f.sketchSlot, end: k)))
                continue
            }
            let (index, rank) = HyperLogLog.split(hash)
            if g.sketchCount == 1 {
                out.put(i, .int(distinctInNewest(gi, g, word: f.word, index: index, rank: rank, end: k)))
                continue
            }
            if raiseTileRun(gi, g, position: cold, member: f, index: index, rank: rank),
               Int64(bitPattern: words[g.unions + f.sketchSlot * DistinctUnion.wordCount + DistinctUnion.end]) == k {
                raiseUnion(gi, g, f.sketchSlot, index: index, rank: rank)
            }
            out.put(i, .int(windowEstimate(gi, g, f.sketchSlot, end: k)))
        }
    }

    /// Applies one event at time `t` to window group `gi` and writes its members' values into `out`.
    ///
    /// `fields` is the event pre-classified (`EventField`), `event` the raw values (read by `last` and
    /// `approx_distinct` members only).
    mutating func applyWindow(
        _ gi: Int, time t: Int64, features: UnsafeBufferPointer<CompiledFeature>, steps: UnsafeBufferPointer<MemberStep>,
        fields: UnsafeBufferPointer<EventField>, event ev: UnsafeBufferPointer<FieldValue>,
        output out: UnsafeMutableBufferPointer<FieldValue>
    ) {
        let g = plan.groups[gi]
        let k = CompiledFeature.tileIndex(t, g.tileMillis)
        let n = g.tilesPerWindow
        let shape = words[g.hotBase]
        let hasNewest = shape & 1 == 1
        let cs = coldStart(gi)
        let position: Int
        let isNewest: Bool
        if hasNewest && k == Int64(bitPattern: words[g.newest]) {
            position = Int(truncatingIfNeeded: shape >> 1)
            isNewest = true
        } else if !hasNewest || k > Int64(bitPattern: words[g.newest]) {
            openNewestTile(gi, g, k, coldStart: cs)
            position = Int(truncatingIfNeeded: words[g.hotBase] >> 1)
            isNewest = true
        } else {
            position = openOlderTile(gi, g, k, coldStart: cs)
            isNewest = false
        }
        let vs = g.valueCount > 0 ? valueStart(gi) : 0
        var special = false
        words.withUnsafeMutableBufferPointer { wordBuffer in
            values.withUnsafeMutableBufferPointer { valueBuffer in
                let base = wordBuffer.baseAddress!
                let tiles = TileRecords(base, g, coldStart: cs)
                // The group's value block (only read when the group has `last` members).
                let block = valueBuffer.baseAddress.map { $0 + vs }
                if isNewest && Int64(bitPattern: base[g.prefix]) != k {
                    Self.advancePrefix(to: k, g, tiles, block, features: features, steps: steps)
                }
                let record = tiles.record(position)
                let prefix = base + g.prefix
                for m in steps[g.memberStart..<g.memberStart + g.width] {
                    let i = Int(m.feature)
                    switch m.op {
                    case .approxDistinct:
                        special = true
                        let f = features[i]
                        let v: FieldValue = f.field >= 0 && f.field < ev.count ? ev[f.field] : .null
                        var acc = FeatureTile(f.op, at: record + f.word)
                        _ = acc.add(f.op, v, time: t)
                        acc.store(f.op, at: record + f.word)
                    case .last:
                        let f = features[i]
                        let v: FieldValue = f.field >= 0 && f.field < ev.count ? ev[f.field] : .null
                        let b = block!
                        var acc = FeatureTile(f.op, at: record + f.word)
                        if acc.add(f.op, v, time: t) { b[(position + 1) * g.valueCount + f.valueSlot] = v }
                        acc.store(f.op, at: record + f.word)
                        if isNewest {
                            var total = FeatureTile(f.op, at: prefix + f.word)
                            var last = b[f.valueSlot]
                            if total.merge(f.op, acc) { last = b[(position + 1) * g.valueCount + f.valueSlot] }
                            out.put(i, total.output(f.op, last: last))
                        } else {
                            let (total, last) = Self.fold(f, lo: k &- n, hi: k, g, tiles, block)
                            out.put(i, total.output(f.op, last: last))
                        }
                    default:
                        let field = fields[Int(m.field)]
                        let word = Int(m.word)
                        if isNewest {
                            out.put(i, FeatureTile.addToNewest(m.op, field, time: t, newest: record + word, prefix: prefix + word))
                        } else {
                            let f = features[i]
                            var acc = FeatureTile(f.op, at: record + f.word)
                            _ = acc.add(f.op, field, time: t)
                            acc.store(f.op, at: record + f.word)
                            // Out of order into an older tile: fold the cold tiles in (k − n, k].
                            var total = FeatureTile()
                            var q = tiles.coldLowerBound(k &- n &+ 1)
                            while q <= position {
                                _ = total.merge(f.op, FeatureTile(f.op, at: tiles.record(q) + f.word))
                                q += 1
                            }
                            out.put(i, total.output(f.op, last: .null))
                        }
                    }
                }
            }
        }
        if !special { return }
        for m in steps[g.memberStart..<g.memberStart + g.width] where m.op == .approxDistinct {
            let i = Int(m.feature)
            let f = features[i]
            if let hash = f.field >= 0 && f.field < ev.count ? ev.baseAddress![f.field].stableHash : nil {
                let (index, rank) = HyperLogLog.split(hash)
                if raiseTileRun(gi, g, position: position, member: f, index: index, rank: rank) {
                    let s = g.unions + f.sketchSlot * DistinctUnion.wordCount
                    let end = Int64(bitPattern: words[s + DistinctUnion.end])
                    if end != .min && k > end &- n && k <= end { raiseUnion(gi, g, f.sketchSlot, index: index, rank: rank) }
                }
            }
            out.put(i, .int(isNewest ? windowEstimate(gi, g, f.sketchSlot, end: k) : freshEstimate(gi, g, f, lo: k &- n, hi: k)))
        }
    }

    /// Makes tile `k` (> every stored tile) the newest: the current newest joins the cold records.
    private mutating func openNewestTile(_ gi: Int, _ g: WindowGroup, _ k: Int64, coldStart cs: Int) {
        let shape = words[g.hotBase]
        var cold = Int(truncatingIfNeeded: shape >> 1)
        if shape & 1 == 1 {
            if g.sketchCount > 0 {
                moveUnions(gi, g, to: k)
                moveNewestRunsBeforeUnions(gi, g)
            }
            // The newest record joins the end of the group's cold run: append it (usually the group's run
            // is last, see `WindowGroup.coldOrder`), else rotate it in front of the runs after it.
            let end = cs + cold * g.stride
            let used = usedWordCount
            if words.count - used < g.stride { appendZeroWords(g.stride - (words.count - used)) }
            let tail = used - end
            let newCold = cold + 1
            words.withUnsafeMutableBufferPointer { w in
                let base = w.baseAddress!
                if tail > 0 { (base + end + g.stride).update(from: base + end, count: tail) }
                // A record is a few words: copied (and the newest reset) in place, without a memmove call.
                let from = base + g.newest
                let to = base + end
                for x in 0..<g.stride {
                    to[x] = from[x]
                    from[x] = 0
                }
                from[0] = UInt64(bitPattern: k)
                base[g.hotBase] = UInt64(newCold << 1 | 1)
            }
            cold = newCold
        } else {
            words.withUnsafeMutableBufferPointer { w in
                let base = w.baseAddress!
                for x in 0..<g.stride { base[g.newest + x] = 0 }
                base[g.newest] = UInt64(bitPattern: k)
                base[g.hotBase] = UInt64(cold << 1 | 1)
            }
        }
        if g.valueCount > 0 {
            // The block holds the prefix and `cold` tiles; the new newest's values go last.
            values.insert(contentsOf: repeatElement(FieldValue.null, count: g.valueCount), at: valueStart(gi) + (cold + 1) * g.valueCount)
        }
        // The new tile's sketch runs are empty: nothing to add to the pool.
    }

    /// Finds or creates the cold record of tile `k` (older than the newest); returns its position.
    private mutating func openOlderTile(_ gi: Int, _ g: WindowGroup, _ k: Int64, coldStart cs: Int) -> Int {
        let cold = Int(truncatingIfNeeded: words[g.hotBase] >> 1)
        let q = words.withUnsafeMutableBufferPointer { w in TileRecords(w.baseAddress!, g, coldStart: cs).coldLowerBound(k) }
        if q == cold || Int64(bitPattern: words[cs + q * g.stride]) != k {
            insertZeroWords(g.stride, at: cs + q * g.stride)
            words[cs + q * g.stride] = UInt64(bitPattern: k)
            words[g.hotBase] = UInt64((cold + 1) << 1 | 1)
            words[g.prefixFirst] = .max // positions moved
            if g.valueCount > 0 {
                values.insert(contentsOf: repeatElement(FieldValue.null, count: g.valueCount), at: valueStart(gi) + (q + 1) * g.valueCount)
            }
        }
        // The cached prefix covers the changed older tile.
        let end = Int64(bitPattern: words[g.prefix])
        if end != .min && k > end &- g.tilesPerWindow && k < end { words[g.prefix] = UInt64(bitPattern: Int64.min) }
        return q
    }

    // MARK: folds

    /// Makes the prefix the fold of the tiles in (end − n, end − 1], extending the current prefix when
    /// no stored tile left the window since (continuing the ascending left fold performs exactly the
    /// operations a fresh fold would), else refolding.
    static func advancePrefix(
        to end: Int64, _ g: WindowGroup, _ tiles: TileRecords, _ block: UnsafeMutablePointer<FieldValue>?,
        features: UnsafeBufferPointer<CompiledFeature>, steps: UnsafeBufferPointer<MemberStep>
    ) {
        let base = tiles.base
        let oldEnd = Int64(bitPattern: base[g.prefix])
        let n = g.tilesPerWindow
        var start = -1
        if oldEnd != .min && oldEnd < end {
            // The first stored tile of the old window (oldEnd − n, oldEnd]: cached, else searched.
            let cached = base[g.prefixFirst]
            let first = cached <= UInt64(tiles.count) ? Int(truncatingIfNeeded: cached) : tiles.lowerBound(oldEnd &- n &+ 1)
            // Any stored tile in (oldEnd − n, end − n] would leave the window.
            if first == tiles.count || tiles.index(first) > end &- n {
                foldIntoPrefix(from: tiles.lowerBound(oldEnd), through: end &- 1, g, tiles, block, features: features, steps: steps)
                base[g.prefix] = UInt64(bitPattern: end)
                base[g.prefixFirst] = UInt64(first) // also the first tile after end − n
                return
            }
            // The new window's first tile: a few steps on from the old one's, usually.
            var p = first
            var steps = 0
            while p < tiles.count && tiles.index(p) <= end &- n && steps < 8 {
                p += 1
                steps += 1
            }
            start = p < tiles.count && tiles.index(p) <= end &- n ? tiles.lowerBound(end &- n &+ 1) : p
        } else {
            start = tiles.lowerBound(end &- n &+ 1)
        }
        for x in 1..<g.stride { base[g.prefix + x] = 0 }
        if let block { for v in 0..<g.valueCount { block[v] = .null } }
        foldIntoPrefix(from: start, through: end &- 1, g, tiles, block, features: features, steps: steps)
        base[g.prefix] = UInt64(bitPattern: end)
        base[g.prefixFirst] = UInt64(start)
    }

    /// Merges, in ascending order, every stored tile from logical position `start` with index ≤ `hi`
    /// (`hi` is below the newest tile, so these are cold records) into the prefix, member by member:
    /// each member's operations are those of a left fold.
    @inline(always)
    private static func foldIntoPrefix(
        from start: Int, through hi: Int64, _ g: WindowGroup, _ tiles: TileRecords, _ block: UnsafeMutablePointer<FieldValue>?,
        features: UnsafeBufferPointer<CompiledFeature>, steps: UnsafeBufferPointer<MemberStep>
    ) {
        let records = tiles.base + tiles.coldStart
        var last = start
        if tiles.cold > 0 && Int64(bitPattern: records[(tiles.cold - 1) * g.stride]) <= hi {
            last = Swift.max(start, tiles.cold) // the usual case: every cold tile is below the newest
        } else {
            while last < tiles.cold && Int64(bitPattern: records[last * g.stride]) <= hi { last += 1 }
        }
        assert(last == tiles.count || tiles.index(last) > hi, "the prefix never includes the newest tile")
        if last <= start { return }
        let prefix = tiles.base + g.prefix
        for m in steps[g.memberStart..<g.memberStart + g.width] {
            switch m.op {
            case .approxDistinct:
                // A distinct member's prefix count is never read: its value comes from the union.
                continue
            case .last:
                let f = features[Int(m.feature)]
                var acc = FeatureTile(f.op, at: prefix + f.word)
                for p in start..<last {
                    if acc.merge(f.op, FeatureTile(f.op, at: records + p * g.stride + f.word)), let block {
                        block[f.valueSlot] = block[(p + 1) * g.valueCount + f.valueSlot]
                    }
                }
                acc.store(f.op, at: prefix + f.word)
            default:
                let word = Int(m.word)
                var acc = FeatureTile(m.op, at: prefix + word)
                acc.mergeRecords(m.op, records + start * g.stride + word, count: last - start, stride: g.stride)
                acc.store(m.op, at: prefix + word)
            }
        }
    }

    /// Folds, in ascending tile order, feature `f`'s accumulators of the tiles with index in (lo, hi],
    /// with the kept value for `last`.
    static func fold(_ f: CompiledFeature, lo: Int64, hi: Int64, _ g: WindowGroup, _ tiles: TileRecords, _ block: UnsafeMutablePointer<FieldValue>?) -> (FeatureTile, FieldValue) {
        var acc = FeatureTile()
        var value: FieldValue = .null
        var p = tiles.lowerBound(lo &+ 1)
        while p < tiles.count {
            let record = tiles.record(p)
            if Int64(bitPattern: record[0]) > hi { break }
            if acc.merge(f.op, FeatureTile(f.op, at: record + f.word)) && f.op == .last, let block {
                value = block[(p + 1) * g.valueCount + f.valueSlot]
            }
            p += 1
        }
        return (acc, value)
    }

    /// Sliding feature `f`'s value over the tiles in (lo, hi] (reads).
    func windowValue(_ f: CompiledFeature, lo: Int64, hi: Int64) -> FieldValue {
        let gi = f.group
        let g = plan.groups[gi]
        if f.op == .approxDistinct {
            // A read of the newest window (the online features as of the latest event) finds the union `apply`
            // keeps for it; other windows are unioned afresh.
            if lo == hi &- g.tilesPerWindow, let kept = keptWindowEstimate(g, f.sketchSlot, end: hi) { return .int(kept) }
            return .int(freshEstimate(gi, g, f, lo: lo, hi: hi))
        }
        let cs = coldStart(gi)
        let vs = g.valueCount > 0 ? valueStart(gi) : 0
        return words.withUnsafeBufferPointer { w in
            values.withUnsafeBufferPointer { v in
                let tiles = TileRecords(UnsafeMutablePointer(mutating: w.baseAddress!), g, coldStart: cs)
                let block = v.baseAddress.map { UnsafeMutablePointer(mutating: $0 + vs) }
                let (acc, last) = Self.fold(f, lo: lo, hi: hi, g, tiles, block)
                return acc.output(f.op, last: last)
            }
        }
    }

    // MARK: eviction

    /// Drops group `gi`'s tiles with index ≤ `cutoff`, keeping the caches whose windows they are not in.
    mutating func dropTiles(_ gi: Int, through cutoff: Int64) {
        let g = plan.groups[gi]
        let n = g.tilesPerWindow
        let cs = coldStart(gi)
        let shape = words[g.hotBase]
        let cold = Int(truncatingIfNeeded: shape >> 1)
        let count = cold + Int(truncatingIfNeeded: shape & 1)
        let k = words.withUnsafeMutableBufferPointer { w in TileRecords(w.baseAddress!, g, coldStart: cs).lowerBound(cutoff &+ 1) }
        if k == 0 { return }
        // Caches over windows that contained a dropped tile go (their windows end after `cutoff` − n).
        let prefixEnd = Int64(bitPattern: words[g.prefix])
        if prefixEnd != .min && cutoff > prefixEnd &- n { words[g.prefix] = UInt64(bitPattern: Int64.min) }
        words[g.prefixFirst] = .max // positions move
        if g.sketchCount > 0 {
            for d in 0..<g.sketchCount {
                let end = Int64(bitPattern: words[g.unions + d * DistinctUnion.wordCount + DistinctUnion.end])
                if end != .min && cutoff > end &- n { dropUnion(gi, g, d) }
            }
            // The dropped tiles' runs open the group's segment (when the newest tile goes too, so did
            // every union above: a union is for the window ending at the newest tile).
            assert(k <= cold || unionsLength(g) == 0, "the newest tile's runs follow the unions")
            var length = 0
            for p in 0..<k {
                let record = p < cold ? cs + p * g.stride : g.newest
                for e in 0..<g.sketchCount { length += SketchRun.length(words[record + plan.sketchWords[g.sketchWordStart + e] + 1]) }
            }
            if length > 0 {
                let start = poolStart(gi)
                sketchPool.removeSubrange(start..<start + length)
                words[g.hotBase + 1] -= UInt64(length)
            }
        }
        if g.valueCount > 0 {
            let vs = valueStart(gi)
            values.removeSubrange(vs + g.valueCount..<vs + (k + 1) * g.valueCount)
        }
        if k > cold {
            // The newest tile goes too, hence every tile.
            precondition(k == count)
            removeWords(cs..<cs + cold * g.stride)
            for x in 0..<g.stride { words[g.newest + x] = 0 }
            words[g.hotBase] = 0
        } else {
            removeWords(cs..<cs + k * g.stride)
            words[g.hotBase] = UInt64((cold - k) << 1 | 1)
        }
    }

    /// Removes the used words in `range` (before the shapes change): the used words after it move down
    /// and the freed words become spare zeros (the spare ones are not moved, see `appendZeroWords`).
    private mutating func removeWords(_ range: Range<Int>) {
        let used = usedWordCount
        let removed = range.count
        if removed == 0 { return }
        words.withUnsafeMutableBufferPointer { w in
            let base = w.baseAddress!
            let tail = used - range.upperBound
            if tail > 0 { (base + range.lowerBound).update(from: base + range.upperBound, count: tail) }
            (base + used - removed).update(repeating: 0, count: removed)
        }
    }
}
