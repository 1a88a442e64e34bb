/// A HyperLogLog sketch with 2^10 registers for approximate distinct counts.
///
/// - Hashing: `FieldValue.stableHash` (XXH64), so sketches are identical across processes.
/// - Register index: the top 10 bits of the hash; rank: 1 + leading zeros of the remaining 54 bits (1…55).
/// - Estimator: Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog
///   sketches", 2017), which is unbiased from 0 to far beyond 10^9 without empirical bias tables.
///   Relative standard error ≈ 1.04 / √1024 ≈ 3.25 %.
/// - Representation: sparse (sorted `UInt16` entries `index << 6 | rank`, 2 bytes per non-zero register)
///   until more than `sparseLimit` registers are set, then dense (one byte per register, 6-bit packed
///   when serialized: 768 bytes). Both representations give the same estimate.
package struct HyperLogLog: Sendable, Hashable {
    /// log2 of the register count.
    package static let precision = 10
    /// Number of registers, m.
    package static let registerCount = 1 << precision
    /// Largest possible rank (64 − precision + 1).
    package static let maxRank = 64 - precision + 1
    /// Expected relative standard error, 1.04 / √m.
    package static let relativeStandardError = 1.04 / Double(registerCount).squareRoot()
    /// Sparse entries allowed before switching to dense (sparse then costs as much as packed dense).
    static let sparseLimit = 384

    /// Sorted entries `index << 6 | rank`, unique by index. Empty when dense.
    var sparse: [UInt16] = []
    /// One rank per register when dense, else empty.
    var dense: [UInt8] = []

    /// Creates an empty sketch.
    package init() {}

    /// Whether the sketch uses the dense representation.
    package var isDense: Bool { !dense.isEmpty }
    /// Whether no value was ever inserted.
    package var isEmpty: Bool { sparse.isEmpty && dense.isEmpty }

    /// Number of stored entries: non-zero registers when sparse, m when dense.
    var storedEntryCount: Int { isDense ? Self.registerCount : sparse.count }

    /// Splits a hash into its register index and rank.
    @inline(__always)
    static func split(_ hash: UInt64) -> (index: Int, rank: UInt8) {
        let index = Int(truncatingIfNeeded: hash >> UInt64(64 - precision))
        let rest = hash << UInt64(precision)
        let rank = rest == 0 ? maxRank : rest.leadingZeroBitCount + 1
        return (index, UInt8(truncatingIfNeeded: rank))
    }

    /// Adds a value given by its stable hash. Returns the register it touched and whether it changed.
    @discardableResult
    package mutating func insert(hash: UInt64) -> (index: Int, rank: UInt8, changed: Bool) {
        let (index, rank) = Self.split(hash)
        return (index, rank, insert(index: index, rank: rank))
    }

    /// Raises register `index` to `rank` if lower; returns whether it changed.
    @discardableResult
    mutating func insert(index: Int, rank: UInt8) -> Bool {
        if isDense {
            return dense.withUnsafeMutableBufferPointer { d in
                if d[index] < rank { d[index] = rank; return true }
                return false
            }
        }
        let key = UInt16(truncatingIfNeeded: index << 6)
        var lo = 0
        var hi = sparse.count
        sparse.withUnsafeBufferPointer { s in
            while lo < hi {
                let mid = (lo + hi) >> 1
                if s[mid] < key { lo = mid + 1 } else { hi = mid }
            }
        }
        let entry = key | UInt16(rank)
        if lo < sparse.count && sparse[lo] >> 6 == key >> 6 {
            if sparse[lo] & 63 < UInt16(rank) { sparse[lo] = entry; return true }
            return false
        }
        sparse.insert(entry, at: lo)
        if sparse.count > Self.sparseLimit { densify() }
        return true
    }

    private mutating func densify() {
        var registers = [UInt8](repeating: 0, count: Self.registerCount)
        for e in sparse { registers[Int(e >> 6)] = UInt8(e & 63) }
        dense = registers
        sparse = []
    }

    /// Calls `body(index, rank)` for every non-zero register, in index order.
    @inline(__always)
    func forEachRegister(_ body: (Int, UInt8) -> Void) {
        if isDense {
            dense.withUnsafeBufferPointer { d in
                for i in 0..<d.count where d[i] != 0 { body(i, d[i]) }
            }
        } else {
            sparse.withUnsafeBufferPointer { s in
                for e in s { body(Int(e >> 6), UInt8(e & 63)) }
            }
        }
    }

    /// Calls `body` with every sparse entry (`index << 6 | rank`); only for sparse sketches.
    @inline(__always)
    func forEachEntry(_ body: (UInt16) -> Void) {
        sparse.withUnsafeBufferPointer { s in
            for e in s { body(e) }
        }
    }

    /// Merges `other` into this sketch (register-wise maximum): the sketch of the union of both inputs.
    package mutating func formUnion(_ other: HyperLogLog) {
        other.forEachRegister { i, r in insert(index: i, rank: r) }
    }

    /// The estimated number of distinct values inserted.
    package func estimate() -> Double {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.maxRank + 1) { histogram in
            histogram.initialize(repeating: 0)
            var set: Int32 = 0
            forEachRegister { _, r in histogram[Int(r)] += 1; set += 1 }
            histogram[0] = Int32(Self.registerCount) - set
            return Self.estimate(histogram: UnsafeBufferPointer(histogram))
        }
    }

    /// Ertl's improved raw estimator from the register histogram `c[k]` = registers with rank k (k = 0…maxRank).
    static func estimate(histogram c: UnsafeBufferPointer<Int32>) -> Double {
        let m = Double(registerCount)
        if Int(c[0]) == registerCount { return 0 }
        let q = maxRank - 1
        var z = m * tau(1 - Double(c[q + 1]) / m)
        var k = q
        while k >= 1 {
            z = 0.5 * (z + Double(c[k]))
            k -= 1
        }
        z += sigmaTerm(Int(c[0]))
        return (m * m) / (2 * 0.693_147_180_559_945_3 * z)
    }

    /// Highest rank for which `estimate(setCount:zScaled:)` reproduces `estimate(histogram:)` exactly.
    ///
    /// The histogram estimator folds z = Σ_k c[k] · 2^−k by halving from rank 54 down; every partial sum
    /// is a multiple of 2^−R below 2^9 (R the highest set rank), so while R ≤ 44 all of them are exact
    /// doubles and the fold equals the exact sum, which `zScaled` holds as an integer.
    static let exactSumMaxRank: UInt8 = 43

    /// Ertl's estimator from the number of set registers and zScaled = Σ over set registers of
    /// 2^(44 − rank), all ranks ≤ `exactSumMaxRank`: bit-identical to `estimate(histogram:)` for the
    /// same registers, in constant time instead of a pass over the 55 ranks.
    static func estimate(setCount: Int, zScaled: UInt64) -> Double {
        if setCount == 0 { return 0 }
        let m = Double(registerCount)
        // τ(1 − c[55]/m) = τ(1) = 0: no register has rank 55.
        var z = Double(zScaled) * 0x1p-44
        z += sigmaTerm(registerCount - setCount)
        return (m * m) / (2 * 0.693_147_180_559_945_3 * z)
    }

    /// m · σ(c0 / m) for c0 = 0 … m empty registers, computed once (the series takes a dozen or more
    /// iterations near c0 = m, the common case of small sets); the same doubles `sigma` returns.
    static let sigmaTerms: [Double] = (0...registerCount).map { c0 in
        Double(registerCount) * sigma(Double(c0) / Double(registerCount))
    }

    /// m · σ(c0 / m), from `sigmaTerms`.
    @inline(__always)
    static func sigmaTerm(_ c0: Int) -> Double {
        sigmaTerms.withUnsafeBufferPointer { $0[c0] }
    }

    /// σ(x) = x + Σ_{k≥1} x^(2^k) · 2^(k−1).
    static func sigma(_ x0: Double) -> Double {
        if x0 == 1 { return .infinity }
        var x = x0
        var y = 1.0
        var z = x0
        while true {
            x *= x
            let previous = z
            z += x * y
            y += y
            if previous == z { return z }
        }
    }

    /// τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² · 2^−k) / 3.
    static func tau(_ x0: Double) -> Double {
        if x0 == 0 || x0 == 1 { return 0 }
        var x = x0
        var y = 1.0
        var z = 1 - x0
        while true {
            x = x.squareRoot()
            let previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
            if previous == z { return z / 3 }
        }
    }

    /// The estimate rounded to the nearest integer, as features report it.
    @inline(__always)
    static func rounded(_ estimate: Double) -> Int64 {
        Int64(estimate.rounded())
    }
}
