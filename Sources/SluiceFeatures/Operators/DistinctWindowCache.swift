/// The union sketch of one sliding window's tiles, kept so that heavy entities do not re-merge every tile
/// on every event.
///
/// It is derived data (never serialized): a pure function of the tiles in (end − n, end], maintained by
/// register-wise maximum, which is exact and order-independent, so a restored state that rebuilds it
/// produces the same estimates as one that kept it.
struct DistinctWindowCache: Sendable {
    /// The window-end tile index the union was built for.
    var end: Int64
    var registers: [UInt8]
    /// histogram[k] = registers with rank k.
    var histogram: [Int32]
    /// The rounded estimate, or -1 when the registers changed since it was computed.
    var estimate: Int64 = -1

    /// Unions at most this many sparse entries afresh on each event instead of keeping a cache.
    static let rebuildThreshold = 96

    init(end: Int64) {
        self.end = end
        self.registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        self.histogram = [Int32](repeating: 0, count: HyperLogLog.maxRank + 1)
        self.histogram[0] = Int32(HyperLogLog.registerCount)
    }

    /// Empties the union and makes it the one for window end `end`.
    mutating func reset(end: Int64) {
        self.end = end
        estimate = -1
        for i in 0..<registers.count { registers[i] = 0 }
        for i in 0..<histogram.count { histogram[i] = 0 }
        histogram[0] = Int32(HyperLogLog.registerCount)
    }

    @inline(__always)
    mutating func raise(index: Int, rank: UInt8) {
        let old = registers[index]
        if old < rank {
            registers[index] = rank
            histogram[Int(old)] -= 1
            histogram[Int(rank)] += 1
            estimate = -1
        }
    }

    mutating func currentEstimate() -> Int64 {
        if estimate < 0 {
            estimate = histogram.withUnsafeBufferPointer { HyperLogLog.rounded(HyperLogLog.estimate(histogram: $0)) }
        }
        return estimate
    }
}
