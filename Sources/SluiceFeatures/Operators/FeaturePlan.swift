/// The compiled form of a feature set, shared (by reference) by the engine and every entity state.
final class FeaturePlan: Sendable {
    /// One entry per spec, in output order.
    let features: [CompiledFeature]
    /// Distinct (window, tile) pairs in order of first appearance.
    let groups: [WindowGroup]
    /// Feature indices of every group's members, concatenated (see `WindowGroup.memberStart`).
    let members: [Int]
    /// Indices of the features that are not sliding (value, time_since_last, lifetime aggregates), ascending.
    let lifetimeMembers: [Int]
    /// Sizes of the per-entity lifetime arrays.
    let lifetimeCount: Int
    let lifetimeValueCount: Int
    let lifetimeSketchCount: Int
    /// Size of `EntityState.hot`: the lifetime accumulators, then every group's hot block.
    let hotCount: Int

    init(features input: [CompiledFeature]) {
        var features = input
        var groups: [WindowGroup] = []
        var groupMembers: [[Int]] = []
        var lifetimeMembers: [Int] = []
        var lifetimeCount = 0
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
                features[i].slot = lifetimeCount
                lifetimeCount += 1
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
        var hotCount = lifetimeCount
        for g in groups.indices {
            groups[g].memberStart = members.count
            members.append(contentsOf: groupMembers[g])
            groups[g].hotBase = hotCount
            hotCount += 1 + 2 * groups[g].width
        }
        self.hotCount = hotCount
        self.features = features
        self.groups = groups
        self.members = members
        self.lifetimeMembers = lifetimeMembers
        self.lifetimeCount = lifetimeCount
        self.lifetimeValueCount = lifetimeValueCount
        self.lifetimeSketchCount = lifetimeSketchCount
    }
}
