/// One HyperLogLog sketch stored as a run of `UInt16`s in `EntityState.sketchPool`, in the same two
/// representations as `HyperLogLog`: sparse (sorted entries `index << 6 | rank`, unique by index) while
/// at most `HyperLogLog.sparseLimit` registers are set, then dense (the 1024 one-byte registers in 512
/// `UInt16`s). A run is described by one info word: the sparse entry count, or `denseInfo`.
///
/// Sparse and dense switch at the same point as `HyperLogLog`, so a run serializes to exactly the bytes
/// the sketch would.
enum SketchRun {
    /// The info word of a dense run.
    static let denseInfo: UInt64 = 1 << 32
    /// `UInt16`s of a dense run.
    static let denseLength = HyperLogLog.registerCount / 2

    /// `UInt16`s the run takes in the pool.
    @inline(__always)
    static func length(_ info: UInt64) -> Int {
        info == denseInfo ? denseLength : Int(truncatingIfNeeded: info)
    }

    /// First sparse position whose register index is ≥ `index` (binary search).
    @inline(__always)
    static func lowerBound(_ entries: UnsafePointer<UInt16>, count: Int, index: Int) -> Int {
        let key = UInt16(truncatingIfNeeded: index << 6)
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if entries[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The rank of register `index` in a run (0 when unset).
    @inline(__always)
    static func rank(_ run: UnsafePointer<UInt16>, info: UInt64, index: Int) -> UInt8 {
        if info == denseInfo {
            return UnsafeRawPointer(run).load(fromByteOffset: index, as: UInt8.self)
        }
        let count = Int(truncatingIfNeeded: info)
        let p = lowerBound(run, count: count, index: index)
        if p < count && Int(run[p] >> 6) == index { return UInt8(truncatingIfNeeded: run[p] & 63) }
        return 0
    }

    /// Calls `body(index, rank)` for every set register of a run, in index order.
    @inline(__always)
    static func forEachRegister(_ run: UnsafePointer<UInt16>, info: UInt64, _ body: (Int, UInt8) -> Void) {
        if info == denseInfo {
            let bytes = UnsafeRawPointer(run).assumingMemoryBound(to: UInt8.self)
            for i in 0..<HyperLogLog.registerCount where bytes[i] != 0 { body(i, bytes[i]) }
        } else {
            for e in 0..<Int(truncatingIfNeeded: info) { body(Int(run[e] >> 6), UInt8(truncatingIfNeeded: run[e] & 63)) }
        }
    }

    /// Appends a run in `HyperLogLog.serialize(into:)`'s format.
    static func serialize<W: StateSink>(_ run: UnsafePointer<UInt16>, info: UInt64, into w: inout W) {
        if info == denseInfo {
            w.varint(UInt64(HyperLogLog.registerCount) << 1 | 1)
            let d = UnsafeRawPointer(run).assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < HyperLogLog.registerCount {
                let packed = UInt32(d[i]) | UInt32(d[i + 1]) << 6 | UInt32(d[i + 2]) << 12 | UInt32(d[i + 3]) << 18
                w.byte(UInt8(truncatingIfNeeded: packed))
                w.byte(UInt8(truncatingIfNeeded: packed >> 8))
                w.byte(UInt8(truncatingIfNeeded: packed >> 16))
                i += 4
            }
        } else {
            let count = Int(truncatingIfNeeded: info)
            w.varint(UInt64(count) << 1)
            for e in 0..<count { w.uint16(run[e]) }
        }
    }

    /// Bytes `serialize` writes at most.
    @inline(__always)
    static func serializedSizeBound(_ info: UInt64) -> Int {
        10 + (info == denseInfo ? 768 : 2 * Int(truncatingIfNeeded: info))
    }

    /// Reads a sketch written by `serialize` (or `HyperLogLog.serialize(into:)`) straight onto the end of
    /// `pool`, with the same validation as `HyperLogLog(reading:)`; returns the run's info word.
    static func read(from r: inout StateReader, appendingTo pool: inout [UInt16]) throws(EntityStateError) -> UInt64 {
        let header = try r.varint()
        let count = header >> 1
        if header & 1 == 1 {
            guard count == UInt64(HyperLogLog.registerCount) else {
                throw r.corrupt("dense sketch with \(count) registers, expected \(HyperLogLog.registerCount)")
            }
            guard r.offset + 768 <= r.buffer.count else { throw r.corrupt("unexpected end of data") }
            let start = pool.count
            pool.append(contentsOf: repeatElement(0, count: denseLength))
            var bad = false
            pool.withUnsafeMutableBufferPointer { p in
                let registers = UnsafeMutableRawPointer(p.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
                var i = 0
                var o = r.offset
                while i < HyperLogLog.registerCount {
                    let packed = UInt32(r.buffer[o]) | UInt32(r.buffer[o + 1]) << 8 | UInt32(r.buffer[o + 2]) << 16
                    for j in 0..<4 {
                        let rank = UInt8(truncatingIfNeeded: (packed >> UInt32(6 * j)) & 63)
                        if Int(rank) > HyperLogLog.maxRank { bad = true }
                        registers[i + j] = rank
                    }
                    i += 4
                    o += 3
                }
            }
            if bad { throw r.corrupt("sketch rank above \(HyperLogLog.maxRank)") }
            r.offset += 768
            return denseInfo
        }
        guard count <= UInt64(HyperLogLog.sparseLimit) else {
            throw r.corrupt("sparse sketch with \(count) entries, at most \(HyperLogLog.sparseLimit) expected")
        }
        var previous = -1
        for _ in 0..<Int(count) {
            let e = try r.uint16()
            let rank = Int(e & 63)
            guard Int(e >> 6) > previous, rank >= 1, rank <= HyperLogLog.maxRank else {
                throw r.corrupt("sparse sketch entries out of order or with an invalid rank")
            }
            previous = Int(e >> 6)
            pool.append(e)
        }
        return count
    }
}

/// The summary of one sliding `approx_distinct` feature's union sketch over the newest window, kept
/// beside its group's hot block (`WindowGroup.unions`), with the union's registers as a `SketchRun` in
/// the pool after the group's tile runs.
///
/// Derived data (never serialized): a pure function of the tiles in (end − n, end], maintained by
/// register-wise maximum, which is exact and order-independent, so a state that rebuilds it after a
/// restore or an eviction gives the same estimates as one that kept it.
enum DistinctUnion {
    /// Words per union summary.
    static let wordCount = 5
    /// The window end (tile index) the union is for; `Int64.min` when there is none.
    static let end = 0
    /// The union run's info word (`SketchRun`).
    static let info = 1
    /// Number of set registers.
    static let setCount = 2
    /// Σ over set registers of 2^(44 − rank) (exact), or `highRank` once a rank above 43 is set.
    static let zScaled = 3
    /// The rounded estimate, or -1 when the registers changed since it was computed.
    static let estimate = 4

    /// `zScaled` of a union holding a rank above `HyperLogLog.exactSumMaxRank`.
    static let highRank = UInt64.max

    /// The contribution of a register of rank `r` (1 … 43) to `zScaled`.
    @inline(__always)
    static func weight(_ r: UInt8) -> UInt64 { 1 << UInt64(44 - Int(r)) }

    /// Records register `index` going from `old` to `new` (> old) in a summary at `s`.
    @inline(__always)
    static func raise(_ s: UnsafeMutablePointer<UInt64>, from old: UInt8, to new: UInt8) {
        if old == 0 { s[setCount] += 1 }
        if s[zScaled] != highRank {
            if new > HyperLogLog.exactSumMaxRank {
                s[zScaled] = highRank
            } else {
                s[zScaled] = s[zScaled] &- (old == 0 ? 0 : weight(old)) &+ weight(new)
            }
        }
        s[estimate] = UInt64(bitPattern: -1)
    }
}
