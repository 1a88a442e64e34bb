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
    /// Sliding: position among its group's members (the accumulator column of every tile).
    /// Otherwise: position in `EntityState.lifetime` (-1 for `time_since_last`).
    var slot: Int = -1
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
