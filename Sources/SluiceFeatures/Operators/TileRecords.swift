/// A view of one window group's stored tiles in `EntityState.words`: the cold records (ascending tile
/// index) and the newest record in the hot block. Logical positions `0 ..< count` cover the cold tiles
/// then the newest.
///
/// Valid only while the word array is neither resized nor moved (inside one
/// `withUnsafeMutableBufferPointer`).
struct TileRecords {
    let base: UnsafeMutablePointer<UInt64>
    /// Offset of the first cold record.
    let coldStart: Int
    /// Number of cold records.
    let cold: Int
    let hasNewest: Bool
    let stride: Int
    /// Offset of the newest record.
    let newest: Int

    @inline(__always)
    init(_ base: UnsafeMutablePointer<UInt64>, _ g: WindowGroup, coldStart: Int) {
        self.base = base
        self.coldStart = coldStart
        let shape = base[g.hotBase]
        cold = Int(truncatingIfNeeded: shape >> 1)
        hasNewest = shape & 1 == 1
        stride = g.stride
        newest = g.newest
    }

    /// Number of stored tiles.
    @inline(__always) var count: Int { cold + (hasNewest ? 1 : 0) }

    /// The record of logical tile `p`.
    @inline(__always)
    func record(_ p: Int) -> UnsafeMutablePointer<UInt64> {
        p < cold ? base + coldStart + p * stride : base + newest
    }

    /// The tile index of logical tile `p`.
    @inline(__always)
    func index(_ p: Int) -> Int64 { Int64(bitPattern: record(p)[0]) }

    /// The newest tile's index (only when `hasNewest`).
    @inline(__always)
    var newestIndex: Int64 { Int64(bitPattern: base[newest]) }

    /// First cold position whose tile index is ≥ k.
    ///
    /// Searched from the newest end (galloping, then binary search in the last bracket): the tiles
    /// asked for are those of a recent window, which the caller folds next, while the start of the run
    /// may hold many older tiles not yet evicted. So the probes touch the lines the fold reads anyway
    /// instead of lines all over the run.
    @inline(__always)
    func coldLowerBound(_ k: Int64) -> Int {
        let records = base + coldStart
        if cold == 0 || Int64(bitPattern: records[(cold - 1) * stride]) < k { return cold }
        // records[hi] ≥ k; lo < 0 or records[lo] < k.
        var hi = cold - 1
        var lo = -1
        var step = 1
        while hi - step >= 0 {
            let probe = hi - step
            if Int64(bitPattern: records[probe * stride]) < k {
                lo = probe
                break
            }
            hi = probe
            step <<= 1
        }
        var l = lo + 1
        var h = hi
        while l < h {
            let mid = (l + h) >> 1
            if Int64(bitPattern: records[mid * stride]) < k { l = mid + 1 } else { h = mid }
        }
        return l
    }

    /// First logical position whose tile index is ≥ k.
    @inline(__always)
    func lowerBound(_ k: Int64) -> Int {
        let p = coldLowerBound(k)
        if p == cold && hasNewest && newestIndex < k { return p + 1 }
        return p
    }
}
