/// The compiled form of a feature set, shared (by reference) by the engine and every entity state.
final class FeaturePlan: Sendable {
    /// One entry per spec, in output order.
    let features: [CompiledFeature]
    /// Distinct (window, tile) pairs in order of first appearance.
    let groups: [WindowGroup]
    /// Feature indices of every group's members, concatenated (see `WindowGroup.memberStart`).
    let members: [Int]
    /// What the per-event loops read of each of those members, parallel to `members`: a compact copy
    /// of the `CompiledFeature`, with the field resolved to a slot of the classified event that always
    /// exists (see `classifiedFieldCount`), so the loops neither copy nor bounds-check.
    let steps: [MemberStep]
    /// Number of event fields `apply` classifies (`EventField`): one past the highest field a feature
    /// reads. The classified event has one more slot, at this index, which is always null: members
    /// that read no field (count) point there, as do fields beyond the event's values.
    let classifiedFieldCount: Int
    /// Indices of the features that are not sliding (value, time_since_last, lifetime aggregates), ascending.
    let lifetimeMembers: [Int]
    /// Sizes of the per-entity lifetime arrays.
    let lifetimeValueCount: Int
    let lifetimeSketchCount: Int
    /// Words of the fixed part of `EntityState.words`: the lifetime accumulators, then every group's hot
    /// block. The groups' cold tile records follow it.
    let fixedWords: Int
    /// Whether some group keeps `last` values or sketches.
    let hasSlidingExtras: Bool
    /// The record offsets (`CompiledFeature.word`) of every group's `approx_distinct` members in
    /// `sketchSlot` order (see `WindowGroup.sketchWordStart`): a member's sketch run info is the word
    /// after its count.
    let sketchWords: [Int]
    /// The engine's fingerprint, stored in serialized states.
    let fingerprint: UInt64
    /// `ReleaseFreeStore.isSupported`, read once.
    let releaseFree = ReleaseFreeStore.isSupported
    /// Byte offsets of `EntityState`'s arrays, for prefetching (read once: a `static let` costs a
    /// `swift_once` check per use).
    let wordsOffset = EntityState.wordsOffset
    let valuesOffset = EntityState.valuesOffset
    let poolOffset = EntityState.poolOffset
    /// Per group, the byte offset of its shape word in the word array's storage (after the 32-byte
    /// array header) and its record stride in bytes, flat: what prefetching reads to find the end of
    /// the used words without copying `WindowGroup`s.
    let shapeOffsetsAndStrides: [Int]
    /// A new entity's arrays (`EntityState.init(plan:)` shares them until its first write): the fixed words
    /// with every cache marked stale, null kept values, empty lifetime sketches.
    let emptyWords: [UInt64]
    let emptyValues: [FieldValue]
    let emptyLifetimeSketches: [HyperLogLog]

    init(features input: [CompiledFeature], fingerprint: UInt64) {
        var features = input
        var groups: [WindowGroup] = []
        var groupMembers: [[Int]] = []
        var lifetimeMembers: [Int] = []
        var lifetimeWords = 0
        var lifetimeValueCount = 0
        var lifetimeSketchCount = 0
        for i in features.indices {
            let f = features[i]
            if f.isSliding {
                var g = groups.firstIndex { $0.tileMillis == f.tileMillis && $0.tilesPerWindow == f.tilesPerWindow } ?? -1
                if g < 0 {
                    g = groups.count
                    groups.append(WindowGroup(tileMillis: f.tileMillis, tilesPerWindow: f.tilesPerWindow, memberStart: 0, width: 0, valueCount: 0, sketchCount: 0))
                    groupMembers.append([])
                }
                features[i].group = g
                features[i].slot = groups[g].width
                features[i].word = groups[g].stride
                groups[g].stride += f.op.wordCount
                groups[g].width += 1
                groupMembers[g].append(i)
                if f.op == .last {
                    features[i].valueSlot = groups[g].valueCount
                    groups[g].valueCount += 1
                }
                if f.op == .approxDistinct {
                    features[i].sketchSlot = groups[g].sketchCount
                    groups[g].sketchCount += 1
                }
            } else {
                lifetimeMembers.append(i)
                if f.op == .timeSinceLast { continue }
                features[i].word = lifetimeWords
                lifetimeWords += f.op.wordCount
                if f.op == .last || f.op == .value {
                    features[i].valueSlot = lifetimeValueCount
                    lifetimeValueCount += 1
                }
                if f.op == .approxDistinct {
                    features[i].sketchSlot = lifetimeSketchCount
                    lifetimeSketchCount += 1
                }
            }
        }
        var members: [Int] = []
        var sketchWords: [Int] = []
        var fixedWords = lifetimeWords
        for g in groups.indices {
            groups[g].memberStart = members.count
            members.append(contentsOf: groupMembers[g])
            groups[g].hotBase = fixedWords
            fixedWords += groups[g].hotWords
            groups[g].sketchWordStart = sketchWords.count
            sketchWords.append(contentsOf: groupMembers[g].filter { features[$0].op == .approxDistinct }.map { features[$0].word })
        }
        // Cold runs by tile size, descending (ties in group order).
        let order = groups.indices.sorted { (groups[$0].tileMillis, -$0) > (groups[$1].tileMillis, -$1) }
        for (rank, g) in order.enumerated() { groups[g].coldOrder = rank }
        self.fixedWords = fixedWords
        self.features = features
        self.groups = groups
        self.members = members
        let classifiedFieldCount = (features.map(\.field).max() ?? -1) + 1
        self.classifiedFieldCount = classifiedFieldCount
        self.steps = members.map { i in
            let f = features[i]
            return MemberStep(op: f.op, field: Int32(f.field >= 0 ? f.field : classifiedFieldCount), word: Int32(f.word), feature: Int32(i))
        }
        self.lifetimeMembers = lifetimeMembers
        self.lifetimeValueCount = lifetimeValueCount
        self.lifetimeSketchCount = lifetimeSketchCount
        self.hasSlidingExtras = groups.contains { !$0.isPlain }
        self.sketchWords = sketchWords
        self.shapeOffsetsAndStrides = groups.flatMap { [32 + $0.hotBase * 8, $0.stride * 8] }
        self.fingerprint = fingerprint
        var words = [UInt64](repeating: 0, count: fixedWords)
        for i in lifetimeMembers where features[i].op == .approxDistinct {
            words[features[i].word + 1] = UInt64(bitPattern: -1) // estimate cache: stale
        }
        var valueCount = lifetimeValueCount
        for g in groups {
            words[g.prefix] = UInt64(bitPattern: .min)
            words[g.prefixFirst] = .max
            for d in 0..<g.sketchCount { words[g.unions + d * DistinctUnion.wordCount + DistinctUnion.end] = UInt64(bitPattern: .min) }
            valueCount += g.valueCount
        }
        self.emptyWords = words
        self.emptyValues = valueCount == 0 ? [] : Array(repeating: .null, count: valueCount)
        self.emptyLifetimeSketches = lifetimeSketchCount == 0 ? [] : Array(repeating: HyperLogLog(), count: lifetimeSketchCount)
    }
}

/// One sliding member as the per-event loops read it (`FeaturePlan.steps`): 16 bytes instead of a
/// `CompiledFeature` reached through `FeaturePlan.members`.
struct MemberStep: Sendable {
    var op: CompiledFeature.Op
    /// The member's slot in the classified event (`FeaturePlan.classifiedFieldCount` when it reads none).
    var field: Int32
    /// `CompiledFeature.word`: the accumulator's offset in each tile record.
    var word: Int32
    /// The feature's index in `FeaturePlan.features`, also its output position.
    var feature: Int32
}
