/// Derived per-entity data of one sliding `approx_distinct` feature (never serialized).
struct DistinctSlot: Sendable {
    /// Union sketch of the newest window's tiles when the window holds many sketch entries.
    var cache: DistinctWindowCache? = nil
    /// The window end `memo` was computed for; `.min` after any sketch change or eviction.
    var memoEnd: Int64 = .min
    var memo: Int64 = 0
}
