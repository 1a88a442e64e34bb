/// The sliding features that share one (window, tile) pair, and so one tile sequence per entity.
///
/// Every event creates its tile in every sliding window and eviction depends only on the window, so
/// features on the same window always store the same tile indices; sharing them keeps an event's work
/// for the group inside one contiguous array (`WindowTiles`).
struct WindowGroup: Sendable, Hashable {
    /// Tile resolution r.
    var tileMillis: Int64
    /// Tiles per window, n = window / r.
    var tilesPerWindow: Int64
    /// The group's features are `FeaturePlan.members[memberStart ..< memberStart + width]` (spec order).
    var memberStart: Int
    /// Number of member features: accumulators per tile.
    var width: Int
    /// Members with a kept field value (`last`): values per tile.
    var valueCount: Int
    /// Members with a sketch (`approx_distinct`): sketches per tile.
    var sketchCount: Int
    /// Start of the group's block in `EntityState.hot`: meta record, prefix (width), newest tile (width).
    var hotBase: Int = 0
}
