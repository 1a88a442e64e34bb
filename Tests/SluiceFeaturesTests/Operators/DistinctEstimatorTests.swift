import Testing
@testable import SluiceFeatures

/// The sliding distinct features estimate from a set-register count and an exact sum instead of the
/// rank histogram; both must give the same doubles, or features would change.
@Suite struct DistinctEstimatorTests {
    /// A sketch with `count` random registers set to ranks in `ranks`.
    func sketch(_ count: Int, ranks: ClosedRange<UInt8>, _ rng: inout SeededGenerator) -> HyperLogLog {
        var s = HyperLogLog()
        for _ in 0..<count {
            s.insert(index: Int.random(in: 0..<HyperLogLog.registerCount, using: &rng), rank: UInt8.random(in: ranks, using: &rng))
        }
        return s
    }

    func summary(_ s: HyperLogLog) -> (setCount: Int, zScaled: UInt64) {
        var set = 0
        var z: UInt64 = 0
        s.forEachRegister { _, r in
            set += 1
            z = r > HyperLogLog.exactSumMaxRank ? DistinctUnion.highRank : (z == DistinctUnion.highRank ? z : z + DistinctUnion.weight(r))
        }
        return (set, z)
    }

    @Test func setCountAndExactSumGiveTheHistogramEstimatorsDoubles() {
        var rng = SeededGenerator(seed: 17)
        var checked = 0
        for count in [0, 1, 2, 5, 30, 200, 384, 385, 700, 1_024, 5_000] {
            for ranks: ClosedRange<UInt8> in [1...3, 1...12, 1...HyperLogLog.exactSumMaxRank, 30...HyperLogLog.exactSumMaxRank] {
                for _ in 0..<8 {
                    let s = sketch(count, ranks: ranks, &rng)
                    let (set, z) = summary(s)
                    #expect(z != DistinctUnion.highRank)
                    let fast = HyperLogLog.estimate(setCount: set, zScaled: z)
                    #expect(fast.bitPattern == s.estimate().bitPattern, "\(set) registers, ranks \(ranks)")
                    checked += 1
                }
            }
        }
        #expect(checked == 11 * 4 * 8)
    }

    @Test func unionsWithRanksAboveTheExactRangeFallBackToTheHistogram() {
        var rng = SeededGenerator(seed: 23)
        for count in [1, 10, 300, 2_000] {
            var s = sketch(count, ranks: 1...20, &rng)
            s.insert(index: 7, rank: 50)
            let (set, z) = summary(s)
            #expect(z == DistinctUnion.highRank)
            let registers: EntityState.UnionRegisters
            if s.isDense {
                registers = s.dense.withUnsafeBufferPointer { d in
                    EntityState.UnionRegisters(sparse: nil, dense: d.baseAddress, setCount: set, zScaled: z)
                }
                #expect(registers.estimate() == HyperLogLog.rounded(s.estimate()))
            } else {
                s.sparse.withUnsafeBufferPointer { entries in
                    let r = EntityState.UnionRegisters(sparse: entries, dense: nil, setCount: set, zScaled: z)
                    #expect(r.estimate() == HyperLogLog.rounded(s.estimate()))
                }
            }
        }
    }

    @Test func summaryRaisesTrackTheRegisters() {
        // DistinctUnion.raise keeps set count and sum equal to a recount after every change.
        var rng = SeededGenerator(seed: 29)
        var s = HyperLogLog()
        var words = [UInt64](repeating: 0, count: DistinctUnion.wordCount)
        words[DistinctUnion.estimate] = UInt64(bitPattern: -1)
        var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        for _ in 0..<3_000 {
            let index = Int.random(in: 0..<HyperLogLog.registerCount, using: &rng)
            let rank = UInt8.random(in: 1...HyperLogLog.exactSumMaxRank, using: &rng)
            if registers[index] < rank {
                words.withUnsafeMutableBufferPointer { DistinctUnion.raise($0.baseAddress!, from: registers[index], to: rank) }
                registers[index] = rank
                s.insert(index: index, rank: rank)
            }
            let (set, z) = summary(s)
            #expect(Int(words[DistinctUnion.setCount]) == set)
            #expect(words[DistinctUnion.zScaled] == z)
        }
    }
}
