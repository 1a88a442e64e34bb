/// Sliding `approx_distinct` on the sketch pool.
///
/// Group `gi`'s segment of `sketchPool` holds its cold tiles' runs (ascending, members in `sketchSlot`
/// order), then one union run per member (`DistinctUnion`, derived), then the newest tile's runs. The
/// newest runs close the segment because most events raise a register there: an insertion near the
/// end moves few entries, where one before the unions moved them all (up to 2 KiB for a dense union)
/// on every new register. When a new tile opens, the former newest runs move in front of the unions.
/// A tile's run length is in its record, in the word after the member's count.
extension EntityState {
    /// The registers of a union of sketch runs, handed to a closure: sparse entries (sorted, unique by
    /// index) or dense registers, with the summary.
    struct UnionRegisters {
        var sparse: UnsafeBufferPointer<UInt16>?
        var dense: UnsafePointer<UInt8>?
        var setCount: Int
        /// `DistinctUnion.zScaled`.
        var zScaled: UInt64

        /// The rounded estimate, identical to `HyperLogLog.estimate()` of the same registers.
        func estimate() -> Int64 {
            if zScaled != DistinctUnion.highRank {
                return HyperLogLog.rounded(HyperLogLog.estimate(setCount: setCount, zScaled: zScaled))
            }
            return withUnsafeTemporaryAllocation(of: Int32.self, capacity: HyperLogLog.maxRank + 1) { hist in
                hist.initialize(repeating: 0)
                if let sparse {
                    for e in sparse { hist[Int(e & 63)] += 1 }
                } else if let dense {
                    for i in 0..<HyperLogLog.registerCount where dense[i] != 0 { hist[Int(dense[i])] += 1 }
                }
                hist[0] = Int32(HyperLogLog.registerCount - setCount)
                return HyperLogLog.rounded(HyperLogLog.estimate(histogram: UnsafeBufferPointer(hist)))
            }
        }
    }

    // MARK: offsets

    /// Length of group `g`'s union runs.
    @inline(__always)
    func unionsLength(_ g: WindowGroup) -> Int {
        var length = 0
        for d in 0..<g.sketchCount {
            length += SketchRun.length(words[g.unions + d * DistinctUnion.wordCount + DistinctUnion.info])
        }
        return length
    }

    /// Length of group `g`'s newest tile runs (0 without a newest tile: its record is zeros).
    @inline(__always)
    func newestRunsLength(_ g: WindowGroup) -> Int {
        if g.sketchCount == 1 { return SketchRun.length(words[g.newest + plan.sketchWords[g.sketchWordStart] + 1]) }
        var length = 0
        for e in 0..<g.sketchCount { length += SketchRun.length(words[g.newest + plan.sketchWords[g.sketchWordStart + e] + 1]) }
        return length
    }

    /// Offset in `sketchPool` of member `d`'s union run.
    @inline(__always)
    private func unionStart(_ gi: Int, _ g: WindowGroup, _ d: Int) -> Int {
        let end = poolStart(gi) + Int(truncatingIfNeeded: words[g.hotBase + 1]) - newestRunsLength(g)
        if g.sketchCount == 1 {
            // The union run ends where the newest runs start.
            return end - SketchRun.length(words[g.unions + DistinctUnion.info])
        }
        var start = end - unionsLength(g)
        for e in 0..<d { start += SketchRun.length(words[g.unions + e * DistinctUnion.wordCount + DistinctUnion.info]) }
        return start
    }

    /// Offset in `sketchPool` of the run of sketch member `d` (record offset `word`) in logical tile `p`.
    @inline(__always)
    private func runStart(_ gi: Int, _ g: WindowGroup, position p: Int, member d: Int, word: Int) -> Int {
        let shape = words[g.hotBase]
        let cold = Int(truncatingIfNeeded: shape >> 1)
        if g.sketchCount == 1 {
            // The common case, without the offsets of other sketch members.
            if p == cold {
                // The newest run closes the segment.
                return poolStart(gi) + Int(truncatingIfNeeded: words[g.hotBase + 1]) - SketchRun.length(words[g.newest + word + 1])
            }
            let cs = coldStart(gi)
            var start = poolStart(gi)
            for q in 0..<p { start += SketchRun.length(words[cs + q * g.stride + word + 1]) }
            return start
        }
        let sketchWords = plan.sketchWords
        let sw = g.sketchWordStart
        if p == cold {
            // The newest tile's runs close the segment.
            var start = poolStart(gi) + Int(truncatingIfNeeded: words[g.hotBase + 1])
            for e in d..<g.sketchCount { start -= SketchRun.length(words[g.newest + sketchWords[sw + e] + 1]) }
            return start
        }
        let cs = coldStart(gi)
        var start = poolStart(gi)
        for q in 0..<p {
            for e in 0..<g.sketchCount { start += SketchRun.length(words[cs + q * g.stride + sketchWords[sw + e] + 1]) }
        }
        for e in 0..<d { start += SketchRun.length(words[cs + p * g.stride + sketchWords[sw + e] + 1]) }
        return start
    }

    /// The newest tile is about to become the last cold tile: moves its runs in front of the union runs
    /// (the segment ends cold runs, unions, newest runs; see the type's documentation).
    mutating func moveNewestRunsBeforeUnions(_ gi: Int, _ g: WindowGroup) {
        let unions = unionsLength(g)
        let newest = newestRunsLength(g)
        if unions == 0 || newest == 0 { return }
        let end = poolStart(gi) + Int(truncatingIfNeeded: words[g.hotBase + 1])
        let start = end - unions - newest
        sketchPool.withUnsafeMutableBufferPointer { pool in
            let base = pool.baseAddress!
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: newest) { runs in
                let saved = runs.baseAddress!
                saved.initialize(from: base + start + unions, count: newest)
                (base + start + newest).update(from: base + start, count: unions)
                (base + start).update(from: saved, count: newest)
            }
        }
    }

    // MARK: the in-order case

    /// The common case of a group with one `approx_distinct` member and an in-order event into the
    /// newest tile (`end`): raises register `index` to `rank` in the newest tile's run and, when that
    /// changed it and the union is for this window, in the union; returns the window estimate. Same
    /// effect as `raiseTileRun`, `raiseUnion` and `windowEstimate`, with the offsets computed once, for
    /// sparse and dense runs alike (a busy entity's 7-day union is usually dense, its newest tile's
    /// run sparse).
    mutating func distinctInNewest(_ gi: Int, _ g: WindowGroup, word: Int, index: Int, rank: UInt8, end: Int64) -> Int64 {
        let groupEnd = poolStart(gi) + Int(truncatingIfNeeded: words[g.hotBase + 1])
        let s = g.unions
        let (newestInfo, unionInfo, unionValid) = words.withUnsafeBufferPointer { w in
            (w[g.newest + word + 1], w[s + DistinctUnion.info], Int64(bitPattern: w[s + DistinctUnion.end]) == end)
        }
        let newestDense = newestInfo == SketchRun.denseInfo
        let unionDense = unionInfo == SketchRun.denseInfo
        if (!newestDense && Int(truncatingIfNeeded: newestInfo) >= HyperLogLog.sparseLimit)
            || (!unionDense && Int(truncatingIfNeeded: unionInfo) >= HyperLogLog.sparseLimit) {
            // A sparse run about to densify: the general steps.
            let f = CompiledFeature(op: .approxDistinct, field: -1, tileMillis: 0, tilesPerWindow: 0, word: word, sketchSlot: 0)
            if raiseTileRun(gi, g, position: Int(truncatingIfNeeded: words[g.hotBase] >> 1), member: f, index: index, rank: rank), unionValid {
                raiseUnion(gi, g, 0, index: index, rank: rank)
            }
            return windowEstimate(gi, g, 0, end: end)
        }
        let newestCount = newestDense ? 0 : Int(truncatingIfNeeded: newestInfo)
        let unionCount = unionValid && !unionDense ? Int(truncatingIfNeeded: unionInfo) : 0
        let runStart = groupEnd - SketchRun.length(newestInfo)
        let unionStart = runStart - SketchRun.length(unionInfo)
        // Where the register is in both runs (a dense run's register is at `index`), and its ranks there.
        let (runPosition, runOld, unionPosition, unionOld) = sketchPool.withUnsafeBufferPointer { pool -> (Int, UInt8, Int, UInt8) in
            let base = pool.baseAddress ?? UnsafePointer(bitPattern: 8)!
            let run = base + runStart
            let p: Int
            let old: UInt8
            if newestDense {
                p = index
                old = UnsafeRawPointer(run).assumingMemoryBound(to: UInt8.self)[index]
            } else {
                p = SketchRun.lowerBound(run, count: newestCount, index: index)
                old = p < newestCount && Int(run[p] >> 6) == index ? UInt8(truncatingIfNeeded: run[p] & 63) : 0
            }
            if old >= rank || !unionValid { return (p, old, 0, 0) }
            let union = base + unionStart
            if unionDense { return (p, old, index, UnsafeRawPointer(union).assumingMemoryBound(to: UInt8.self)[index]) }
            let q = SketchRun.lowerBound(union, count: unionCount, index: index)
            let uold: UInt8 = q < unionCount && Int(union[q] >> 6) == index ? UInt8(truncatingIfNeeded: union[q] & 63) : 0
            return (p, old, q, uold)
        }
        if runOld >= rank { return windowEstimate(gi, g, 0, end: end) }
        let entry = UInt16(truncatingIfNeeded: index << 6) | UInt16(rank)
        var added = 0
        if newestDense {
            setDenseRegister(runAt: runStart, index: index, rank: rank)
        } else if runOld > 0 {
            sketchPool[runStart + runPosition] = entry
        } else {
            insertPoolEntry(entry, at: runStart + runPosition)
            added = 1
        }
        var unionAdded = 0
        let raisesUnion = unionValid && unionOld < rank
        if raisesUnion {
            // The union run lies before the newest run: the insertion above did not move it.
            if unionDense {
                setDenseRegister(runAt: unionStart, index: index, rank: rank)
            } else if unionOld > 0 {
                sketchPool[unionStart + unionPosition] = entry
            } else {
                insertPoolEntry(entry, at: unionStart + unionPosition)
                unionAdded = 1
            }
        }
        words.withUnsafeMutableBufferPointer { w in
            let base = w.baseAddress!
            if !newestDense { base[g.newest + word + 1] = UInt64(newestCount + added) }
            base[g.hotBase + 1] += UInt64(added + unionAdded)
            if raisesUnion {
                if !unionDense { base[s + DistinctUnion.info] = UInt64(unionCount + unionAdded) }
                DistinctUnion.raise(base + s, from: unionOld, to: rank)
            }
        }
        return windowEstimate(gi, g, 0, end: end)
    }

    /// Sets register `index` of the dense run at pool offset `start` to `rank`.
    @inline(__always)
    private mutating func setDenseRegister(runAt start: Int, index: Int, rank: UInt8) {
        sketchPool.withUnsafeMutableBufferPointer { pool in
            UnsafeMutableRawPointer(pool.baseAddress! + start).assumingMemoryBound(to: UInt8.self)[index] = rank
        }
    }

    // MARK: tile runs

    /// Raises register `index` of member `f`'s sketch in logical tile `p` to `rank`; returns whether it changed.
    mutating func raiseTileRun(_ gi: Int, _ g: WindowGroup, position p: Int, member f: CompiledFeature, index: Int, rank: UInt8) -> Bool {
        let cold = Int(truncatingIfNeeded: words[g.hotBase] >> 1)
        let infoAt = (p == cold ? g.newest : coldStart(gi) + p * g.stride) + f.word + 1
        let start = runStart(gi, g, position: p, member: f.sketchSlot, word: f.word)
        return raise(runAt: start, infoAt: infoAt, lengthAt: g.hotBase + 1, index: index, rank: rank) != nil
    }

    /// Raises register `index` of the run at pool offset `start` (info word at `infoAt`) to `rank`,
    /// keeping the group's pool length at `lengthAt` current; returns the register's previous rank when
    /// it changed, nil when it did not.
    private mutating func raise(runAt start: Int, infoAt: Int, lengthAt: Int, index: Int, rank: UInt8) -> UInt8? {
        let info = words[infoAt]
        if info == SketchRun.denseInfo {
            return sketchPool.withUnsafeMutableBufferPointer { pool in
                let registers = UnsafeMutableRawPointer(pool.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
                let old = registers[index]
                if old < rank {
                    registers[index] = rank
                    return old
                }
                return nil
            }
        }
        let count = Int(truncatingIfNeeded: info)
        let entry = UInt16(truncatingIfNeeded: index << 6) | UInt16(rank)
        let (position, old) = sketchPool.withUnsafeBufferPointer { pool -> (Int, UInt8) in
            let run = pool.baseAddress.map { $0 + start } ?? UnsafePointer(bitPattern: 8)!
            let p = SketchRun.lowerBound(run, count: count, index: index)
            let old: UInt8 = p < count && Int(run[p] >> 6) == index ? UInt8(truncatingIfNeeded: run[p] & 63) : 0
            return (p, old)
        }
        if old >= rank { return nil }
        if old > 0 {
            sketchPool[start + position] = entry
            return old
        }
        insertPoolEntry(entry, at: start + position)
        words[lengthAt] += 1
        if count + 1 > HyperLogLog.sparseLimit {
            densify(runAt: start, count: count + 1, infoAt: infoAt, lengthAt: lengthAt)
        } else {
            words[infoAt] = info + 1
        }
        return 0
    }

    /// Inserts one entry into the pool at `offset`, moving the entries after it up.
    @inline(__always)
    private mutating func insertPoolEntry(_ entry: UInt16, at offset: Int) {
        let tail = sketchPool.count - offset
        sketchPool.append(entry)
        if tail == 0 { return }
        sketchPool.withUnsafeMutableBufferPointer { pool in
            let base = pool.baseAddress!
            (base + offset + 1).update(from: base + offset, count: tail)
            base[offset] = entry
        }
    }

    /// Replaces a sparse run of `count` entries by its dense registers.
    private mutating func densify(runAt start: Int, count: Int, infoAt: Int, lengthAt: Int) {
        let dense = [UInt16](unsafeUninitializedCapacity: SketchRun.denseLength) { buffer, initialized in
            buffer.initialize(repeating: 0)
            let registers = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
            for e in sketchPool[start..<start + count] { registers[Int(e >> 6)] = UInt8(truncatingIfNeeded: e & 63) }
            initialized = SketchRun.denseLength
        }
        sketchPool.replaceSubrange(start..<start + count, with: dense)
        words[infoAt] = SketchRun.denseInfo
        words[lengthAt] = words[lengthAt] &- UInt64(count) &+ UInt64(SketchRun.denseLength)
    }

    // MARK: window unions

    /// Raises register `index` of member `d`'s union to `rank` (the union is valid).
    mutating func raiseUnion(_ gi: Int, _ g: WindowGroup, _ d: Int, index: Int, rank: UInt8) {
        let s = g.unions + d * DistinctUnion.wordCount
        guard let old = raise(runAt: unionStart(gi, g, d), infoAt: s + DistinctUnion.info, lengthAt: g.hotBase + 1, index: index, rank: rank) else { return }
        words.withUnsafeMutableBufferPointer { w in DistinctUnion.raise(w.baseAddress! + s, from: old, to: rank) }
    }

    /// The newest tile becomes `k`: each union stays valid for window end `k` when no stored tile leaves
    /// the window (the new tile is empty, so the union is unchanged), else it goes.
    mutating func moveUnions(_ gi: Int, _ g: WindowGroup, to k: Int64) {
        let n = g.tilesPerWindow
        let cs = coldStart(gi)
        for d in 0..<g.sketchCount {
            let s = g.unions + d * DistinctUnion.wordCount
            let end = Int64(bitPattern: words[s + DistinctUnion.end])
            if end == .min { continue }
            let keeps = words.withUnsafeMutableBufferPointer { w -> Bool in
                let tiles = TileRecords(w.baseAddress!, g, coldStart: cs)
                let first = tiles.lowerBound(end &- n &+ 1)
                return first == tiles.count || tiles.index(first) > k &- n
            }
            if keeps {
                words[s + DistinctUnion.end] = UInt64(bitPattern: k)
            } else {
                dropUnion(gi, g, d)
            }
        }
    }

    /// Removes member `d`'s union run and marks the union absent.
    mutating func dropUnion(_ gi: Int, _ g: WindowGroup, _ d: Int) {
        let s = g.unions + d * DistinctUnion.wordCount
        let length = SketchRun.length(words[s + DistinctUnion.info])
        if length > 0 {
            let start = unionStart(gi, g, d)
            sketchPool.removeSubrange(start..<start + length)
            words[g.hotBase + 1] -= UInt64(length)
        }
        words[s + DistinctUnion.end] = UInt64(bitPattern: Int64.min)
        words[s + DistinctUnion.info] = 0
        words[s + DistinctUnion.setCount] = 0
        words[s + DistinctUnion.zScaled] = 0
        words[s + DistinctUnion.estimate] = UInt64(bitPattern: -1)
    }

    /// The rounded estimate of member `d` over the newest window, ending at `end`, from its union
    /// (built first when missing).
    mutating func windowEstimate(_ gi: Int, _ g: WindowGroup, _ d: Int, end: Int64) -> Int64 {
        let s = g.unions + d * DistinctUnion.wordCount
        if Int64(bitPattern: words[s + DistinctUnion.end]) != end { rebuildUnion(gi, g, d, end: end) }
        if let kept = keptWindowEstimate(g, d, end: end) {
            words[s + DistinctUnion.estimate] = UInt64(bitPattern: kept)
            return kept
        }
        // High ranks: the estimate needs the union's registers.
        let setCount = Int(truncatingIfNeeded: words[s + DistinctUnion.setCount])
        let zScaled = words[s + DistinctUnion.zScaled]
        let info = words[s + DistinctUnion.info]
        let start = unionStart(gi, g, d)
        let estimate = sketchPool.withUnsafeBufferPointer { pool in
            let run = pool.baseAddress! + start
            var registers = UnionRegisters(sparse: nil, dense: nil, setCount: setCount, zScaled: zScaled)
            if info == SketchRun.denseInfo {
                registers.dense = UnsafeRawPointer(run).assumingMemoryBound(to: UInt8.self)
            } else {
                registers.sparse = UnsafeBufferPointer(start: run, count: Int(truncatingIfNeeded: info))
            }
            return registers.estimate()
        }
        words[s + DistinctUnion.estimate] = UInt64(bitPattern: estimate)
        return estimate
    }

    /// The estimate of member `d` over the window ending at `end` from the union `apply` keeps, without
    /// building it: nil when the kept union is for another window (or none), or its estimate needs the
    /// registers and was not computed yet. `windowEstimate` starts from it.
    func keptWindowEstimate(_ g: WindowGroup, _ d: Int, end: Int64) -> Int64? {
        let s = g.unions + d * DistinctUnion.wordCount
        guard Int64(bitPattern: words[s + DistinctUnion.end]) == end else { return nil }
        let memo = Int64(bitPattern: words[s + DistinctUnion.estimate])
        if memo >= 0 { return memo }
        let zScaled = words[s + DistinctUnion.zScaled]
        guard zScaled != DistinctUnion.highRank else { return nil }
        return HyperLogLog.rounded(HyperLogLog.estimate(setCount: Int(truncatingIfNeeded: words[s + DistinctUnion.setCount]), zScaled: zScaled))
    }

    /// Rebuilds member `d`'s union for the window ending at `end` from the tiles.
    private mutating func rebuildUnion(_ gi: Int, _ g: WindowGroup, _ d: Int, end: Int64) {
        let s = g.unions + d * DistinctUnion.wordCount
        let start = unionStart(gi, g, d)
        let oldLength = SketchRun.length(words[s + DistinctUnion.info])
        var info: UInt64 = 0
        var setCount = 0
        var zScaled: UInt64 = 0
        let member = plan.features[plan.members[g.memberStart + memberIndex(gi, g, d)]]
        let run: [UInt16] = withUnion(gi, g, member, lo: end &- g.tilesPerWindow, hi: end) { registers in
            setCount = registers.setCount
            zScaled = registers.zScaled
            if let sparse = registers.sparse {
                info = UInt64(sparse.count)
                return Array(sparse)
            }
            info = SketchRun.denseInfo
            return [UInt16](unsafeUninitializedCapacity: SketchRun.denseLength) { buffer, count in
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: registers.dense!, byteCount: HyperLogLog.registerCount)
                count = SketchRun.denseLength
            }
        }
        sketchPool.replaceSubrange(start..<start + oldLength, with: run)
        words[g.hotBase + 1] = words[g.hotBase + 1] &- UInt64(oldLength) &+ UInt64(run.count)
        words[s + DistinctUnion.end] = UInt64(bitPattern: end)
        words[s + DistinctUnion.info] = info
        words[s + DistinctUnion.setCount] = UInt64(setCount)
        words[s + DistinctUnion.zScaled] = zScaled
        words[s + DistinctUnion.estimate] = UInt64(bitPattern: -1)
    }

    /// Position among group `gi`'s members of its sketch member `d`.
    private func memberIndex(_ gi: Int, _ g: WindowGroup, _ d: Int) -> Int {
        for j in 0..<g.width where plan.features[plan.members[g.memberStart + j]].sketchSlot == d { return j }
        preconditionFailure("group \(gi) has no sketch member \(d)")
    }

    /// The rounded estimate of sliding `approx_distinct` feature `f` over the tiles in (lo, hi], unioned
    /// afresh (out-of-order events into older tiles, reads).
    func freshEstimate(_ gi: Int, _ g: WindowGroup, _ f: CompiledFeature, lo: Int64, hi: Int64) -> Int64 {
        withUnion(gi, g, f, lo: lo, hi: hi) { $0.estimate() }
    }

    /// Calls `body` with the union of sketch member `f`'s runs over the tiles in (lo, hi].
    ///
    /// Few sparse entries are sorted and deduplicated (keeping each register's highest rank); many, or
    /// any dense run, go through dense registers. Unions with at most `HyperLogLog.sparseLimit` set
    /// registers are handed over sparse.
    func withUnion<R>(_ gi: Int, _ g: WindowGroup, _ f: CompiledFeature, lo: Int64, hi: Int64, _ body: (UnionRegisters) -> R) -> R {
        let cs = coldStart(gi)
        let ps = poolStart(gi)
        let sketchWords = plan.sketchWords[g.sketchWordStart..<g.sketchWordStart + g.sketchCount]
        return words.withUnsafeBufferPointer { w in
            sketchPool.withUnsafeBufferPointer { pool in
                let tiles = TileRecords(UnsafeMutablePointer(mutating: w.baseAddress!), g, coldStart: cs)
                let first = tiles.lowerBound(lo &+ 1)
                var last = first
                while last < tiles.count && tiles.index(last) <= hi { last += 1 }
                // Run offsets: skip the runs of the tiles before `first`, and the union runs before the
                // newest tile's.
                var offset = ps
                for p in 0..<first {
                    for sw in sketchWords { offset += SketchRun.length(tiles.record(p)[sw + 1]) }
                }
                if first > tiles.cold { offset += unionsLength(g) }
                // At most one run per tile; on the stack, not an array per call.
                return withUnsafeTemporaryAllocation(of: (start: Int, info: UInt64).self, capacity: Swift.max(last - first, 1)) { runBuffer in
                    var runCount = 0
                    var total = 0
                    var anyDense = false
                    for p in first..<last {
                        if p == tiles.cold { offset += unionsLength(g) }
                        for (e, sw) in sketchWords.enumerated() {
                            let info = tiles.record(p)[sw + 1]
                            if e == f.sketchSlot && info != 0 {
                                runBuffer[runCount] = (offset, info)
                                runCount += 1
                                if info == SketchRun.denseInfo { anyDense = true } else { total += Int(truncatingIfNeeded: info) }
                            }
                            offset += SketchRun.length(info)
                        }
                    }
                    let runs = UnsafeBufferPointer(rebasing: runBuffer[0..<runCount])
                    let base = pool.baseAddress ?? UnsafePointer(bitPattern: 8)!
                    if !anyDense && total <= 2 * HyperLogLog.sparseLimit {
                        let sparse: R? = withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Swift.max(total, 1)) { entries in
                            var count = 0
                            for (start, info) in runs {
                                for e in 0..<Int(truncatingIfNeeded: info) {
                                    entries[count] = base[start + e]
                                    count += 1
                                }
                            }
                            var sorted = UnsafeMutableBufferPointer(rebasing: entries[0..<count])
                            if runs.count > 1 {
                                if count <= 32 {
                                    // Insertion sort: the runs are sorted already, so this is nearly linear.
                                    for i in 1..<Swift.max(count, 1) {
                                        let e = sorted[i]
                                        var j = i
                                        while j > 0 && sorted[j - 1] > e {
                                            sorted[j] = sorted[j - 1]
                                            j -= 1
                                        }
                                        sorted[j] = e
                                    }
                                } else {
                                    sorted.sort()
                                }
                            }
                            // Keep the last (highest-rank) entry per register.
                            var unique = 0
                            var i = 0
                            var zScaled: UInt64 = 0
                            while i < count {
                                if i + 1 == count || sorted[i + 1] >> 6 != sorted[i] >> 6 {
                                    let rank = UInt8(truncatingIfNeeded: sorted[i] & 63)
                                    if zScaled != DistinctUnion.highRank {
                                        zScaled = rank > HyperLogLog.exactSumMaxRank ? DistinctUnion.highRank : zScaled + DistinctUnion.weight(rank)
                                    }
                                    sorted[unique] = sorted[i]
                                    unique += 1
                                }
                                i += 1
                            }
                            if unique > HyperLogLog.sparseLimit { return nil }
                            return body(UnionRegisters(sparse: UnsafeBufferPointer(rebasing: sorted[0..<unique]), dense: nil, setCount: unique, zScaled: zScaled))
                        }
                        if let sparse { return sparse }
                    }
                    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HyperLogLog.registerCount) { registers in
                        registers.initialize(repeating: 0)
                        for (start, info) in runs {
                            SketchRun.forEachRegister(base + start, info: info) { i, r in
                                if registers[i] < r { registers[i] = r }
                            }
                        }
                        var setCount = 0
                        var zScaled: UInt64 = 0
                        for i in 0..<HyperLogLog.registerCount where registers[i] != 0 {
                            setCount += 1
                            let rank = registers[i]
                            if zScaled != DistinctUnion.highRank {
                                zScaled = rank > HyperLogLog.exactSumMaxRank ? DistinctUnion.highRank : zScaled + DistinctUnion.weight(rank)
                            }
                        }
                        if setCount <= HyperLogLog.sparseLimit {
                            return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Swift.max(setCount, 1)) { entries in
                                var count = 0
                                for i in 0..<HyperLogLog.registerCount where registers[i] != 0 {
                                    entries[count] = UInt16(truncatingIfNeeded: i << 6) | UInt16(registers[i])
                                    count += 1
                                }
                                return body(UnionRegisters(sparse: UnsafeBufferPointer(rebasing: entries[0..<count]), dense: nil, setCount: setCount, zScaled: zScaled))
                            }
                        }
                        return body(UnionRegisters(sparse: nil, dense: UnsafePointer(registers.baseAddress!), setCount: setCount, zScaled: zScaled))
                    }
                }
            }
        }
    }
}
