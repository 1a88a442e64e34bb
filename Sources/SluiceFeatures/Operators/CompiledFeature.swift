/// A validated feature spec resolved against the schema: what the hot path needs, as plain values.
struct CompiledFeature: Sendable, Hashable {
    enum Op: UInt8, Sendable, Hashable {
        case value, count, sum, mean, min, max, variance, stddev, last, approxDistinct, timeSinceLast

        init(_ kind: AggregateKind) {
            switch kind {
            case .count: self = .count
            case .sum: self = .sum
            case .mean: self = .mean
            case .min: self = .min
            case .max: self = .max
            case .variance: self = .variance
            case .stddev: self = .stddev
            case .last: self = .last
            case .approxDistinct: self = .approxDistinct
            case .timeSinceLast: self = .timeSinceLast
            }
        }

        /// Words (`UInt64`) of one accumulator of this operator in `EntityState.words`:
        /// - value: the kept value's event time;
        /// - count: n; min/max: n, extremum; sum/mean: n, Neumaier sum, compensation;
        ///   variance/stddev: n, mean, M2 (see `FeatureTile`);
        /// - last: n, the kept value's event time;
        /// - approx_distinct: n, then for a lifetime feature the cached rounded estimate (-1 when stale),
        ///   for a sliding one the tile's sketch run length in the pool (`SketchRun`);
        /// - time_since_last: nothing (it reads `EntityState.latestEventTimeMillis`).
        var wordCount: Int {
            switch self {
            case .value, .count: return 1
            case .min, .max, .last, .approxDistinct: return 2
            case .sum, .mean, .variance, .stddev: return 3
            case .timeSinceLast: return 0
            }
        }
    }

    var op: Op
    /// Index of the field read in `DecodedEvent.values`, or -1.
    var field: Int
    /// Tile resolution of a sliding window; 0 for lifetime features.
    var tileMillis: Int64
    /// Tiles per window (window duration / tile resolution); 0 for lifetime features.
    var tilesPerWindow: Int64
    /// The `WindowGroup` of a sliding feature (index into `FeaturePlan.groups`), -1 otherwise.
    var group: Int = -1
    /// Sliding: position among its group's members. Lifetime: unused (-1).
    var slot: Int = -1
    /// Where the accumulator lives: for a lifetime feature the absolute offset in `EntityState.words`;
    /// for a sliding feature the offset inside each tile record of its group (≥ 1, word 0 of a record
    /// is the tile index). -1 for `time_since_last`.
    var word: Int = -1
    /// For `last` and `value`: position among the kept field values (per tile, or lifetime); else -1.
    var valueSlot: Int = -1
    /// For `approx_distinct`: position among the sketches (per tile, or lifetime); else -1.
    var sketchSlot: Int = -1

    var isSliding: Bool { tileMillis > 0 }

    /// The tile holding event time `t`: tile k covers the half-open interval ((k−1)·r, k·r].
    @inline(__always)
    static func tileIndex(_ t: Int64, _ r: Int64) -> Int64 {
        let q = t / r
        return t % r > 0 ? q + 1 : q
    }
}
