/// The sliding features that share one (window, tile) pair, and so one tile sequence per entity.
///
/// Every event creates its tile in every sliding window and eviction depends only on the window, so
/// features on the same window always store the same tile indices; sharing them keeps an event's work
/// for the group in one hot block and one run of tile records.
///
/// Layout in `EntityState.words` (offsets from `hotBase`, all in words):
/// - `[0]` shape: `coldCount << 1 | hasNewest` (tiles stored in the cold run, whether a newest tile is);
/// - `[1]` the group's length in `EntityState.sketchPool` (tile runs plus window unions, in `UInt16`s);
/// - `[2]` the logical position of the first stored tile in the prefix's window (`UInt64.max` when
///   unknown), so that advancing the prefix does not search the cold run for it;
/// - `prefix ..< prefix + stride`: the prefix record: word 0 = prefix end E (`Int64.min` when invalid),
///   then every member's accumulator folded over the tiles in (E − n, E − 1] in ascending order;
/// - `newest ..< newest + stride`: the newest tile's record (word 0 = its tile index);
/// - `unions`: per `approx_distinct` member, `DistinctUnion.wordCount` words summarizing the union of
///   the newest window's sketches (derived).
/// The older tiles follow the fixed part of `words` as `coldCount` records of `stride` words, ascending
/// by tile index, after the cold runs of the groups before this one in `coldOrder` (coarsest tiles
/// first, so the group that opens tiles most often has its run last and inserting a record there moves
/// nothing else). A record is word 0 = tile index, then each member's accumulator at
/// `CompiledFeature.word` (`CompiledFeature.Op.wordCount` words).
struct WindowGroup: Sendable, Hashable {
    /// Tile resolution r.
    var tileMillis: Int64
    /// Tiles per window, n = window / r.
    var tilesPerWindow: Int64
    /// The group's features are `FeaturePlan.members[memberStart ..< memberStart + width]` (spec order).
    var memberStart: Int
    /// Number of member features.
    var width: Int
    /// Members with a kept field value (`last`): values per tile.
    var valueCount: Int
    /// Members with a sketch (`approx_distinct`): sketch runs per tile.
    var sketchCount: Int
    /// Words per tile record: the tile index plus every member's accumulator.
    var stride: Int = 1
    /// Start of the group's hot block in `EntityState.words`.
    var hotBase: Int = 0
    /// Position of the group's cold run among the groups' (`FeaturePlan` sorts by tile size, descending).
    var coldOrder: Int = 0
    /// The group's `approx_distinct` members' record offsets are
    /// `FeaturePlan.sketchWords[sketchWordStart ..< sketchWordStart + sketchCount]`.
    var sketchWordStart: Int = 0

    /// Offset of the word caching the logical position of the first stored tile in the prefix's window
    /// (E − n, E] (`UInt64.max` when unknown; derived, like the prefix).
    var prefixFirst: Int { hotBase + 2 }
    /// Offset of the prefix record in `EntityState.words`.
    var prefix: Int { hotBase + 3 }
    /// Offset of the newest tile's record.
    var newest: Int { hotBase + 3 + stride }
    /// Offset of the first union summary.
    var unions: Int { hotBase + 3 + 2 * stride }
    /// Words of the hot block.
    var hotWords: Int { 3 + 2 * stride + sketchCount * DistinctUnion.wordCount }
    /// Whether the group keeps anything beside the word array (values or sketches).
    var isPlain: Bool { valueCount == 0 && sketchCount == 0 }
}
