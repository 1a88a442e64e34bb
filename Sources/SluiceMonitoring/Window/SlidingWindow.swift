/// A sketch-based sliding window over feature values, tested against a reference profile.
///
/// The window is a ring of `subwindows + 1` histograms laid out over every
/// feature's reference bins: `subwindows` closed sub-windows that make up the
/// window, plus the open one being filled. Adding an event costs one bin lookup
/// per feature (a guide table over the edges that leaves about one comparison, or
/// the category code the caller looked up once) and no allocation; sliding clears
/// one sub-window, O(bins); evaluating merges the closed sub-windows,
/// O(subwindows × bins), and runs each feature's test in O(bins).
///
/// Count windows close a sub-window every `events / subwindows` events, so at
/// each evaluation the window holds exactly the last `events` events (fewer before
/// the window first fills; `WindowEvaluation.events` says how many). Time windows
/// align sub-windows to multiples of `seconds / subwindows` of event time and hold
/// the last `subwindows` closed ones; event time is trusted, so an event far ahead
/// moves the window forward. An event older than the oldest closed sub-window is
/// dropped and counted in `droppedLate`; one that falls in a closed sub-window is
/// added to it.
package struct SlidingWindow: Sendable {
    /// The reference the window is tested against.
    package let profile: ReferenceProfile
    /// The window policy.
    package let policy: WindowPolicy
    /// Evaluate after every this many closed sub-windows.
    package let evaluateEvery: Int

    private let offsets: [Int]
    private let totalBins: Int
    private let slots: Int
    private let eventsPerSubwindow: Int
    private let subwindowSeconds: Double
    /// Per feature, everything the hot path needs in one place.
    private struct Lane: Sendable {
        var offset: Int
        var edgeStart: Int
        var edgeCount: Int
        /// 0 continuous numerical, 1 discrete numerical, 2 categorical.
        var mode: Int
        /// Guide table: cell = Int((value − low) · scale); guide[guideStart + cell] counts the
        /// edges whose own cell is smaller, so a lookup scans only its cell's edges.
        var guideStart: Int
        var guideCells: Int
        var low: Double
        var high: Double
        var scale: Double
    }
    /// Guide cells per lane: about four per edge (at least 256), so a lookup scans ~1 edge.
    private static func guideCells(edges: Int) -> Int { max(256, 4 * edges) }
    private let lanes: [Lane]
    private let edgeStore: [Double]
    private let guide: [Int32]
    private let categoryIndex: [[String: Int]]

    private var counts: [Double]
    private var sums: [Double]
    private var slotEvents: [Int]
    private var slotIds: [Int]
    private var openId: Int
    private var openEvents: Int
    private var closedSinceEvaluation: Int
    private var started: Bool
    /// Events dropped because they were older than the window (time windows).
    package private(set) var droppedLate: Int = 0
    /// Events dropped because their event time was not a usable number (time windows).
    package private(set) var droppedInvalidTime: Int = 0

    private var merged: [Double]
    private var mergedSums: [Double]

    /// Creates an empty window.
    /// - Throws: `WindowConfigurationError` when the policy is not usable.
    package init(profile: ReferenceProfile, policy: WindowPolicy, evaluateEvery: Int = 1) throws {
        let s = policy.subwindows
        guard s >= 1 else { throw WindowConfigurationError(message: "window subwindows must be at least 1, got \(s)") }
        guard evaluateEvery >= 1 else { throw WindowConfigurationError(message: "evaluateEvery must be at least 1, got \(evaluateEvery)") }
        switch policy {
        case .count(let events, _):
            guard events >= s, events % s == 0 else {
                throw WindowConfigurationError(message: "count window of \(events) events must be a positive multiple of its \(s) subwindows")
            }
            eventsPerSubwindow = events / s
            subwindowSeconds = 0
        case .time(let seconds, _):
            guard seconds > 0, seconds.isFinite else {
                throw WindowConfigurationError(message: "time window must span a positive, finite number of seconds, got \(seconds)")
            }
            eventsPerSubwindow = 0
            subwindowSeconds = seconds / Double(s)
        }
        self.profile = profile
        self.policy = policy
        self.evaluateEvery = evaluateEvery
        var offsets: [Int] = []
        var total = 0
        var edgeStore: [Double] = []
        var lanes: [Lane] = []
        var guide: [Int32] = []
        var index: [[String: Int]] = []
        for f in profile.features {
            offsets.append(total)
            let mode = f.kind == .categorical ? 2 : (f.discrete ? 1 : 0)
            // For categorical lanes edgeCount is the number of categories (the "other" bin follows).
            var lane = Lane(offset: total, edgeStart: edgeStore.count, edgeCount: mode == 2 ? f.categories.count : f.edges.count,
                            mode: mode, guideStart: guide.count, guideCells: 0, low: 0, high: 0, scale: 0)
            if mode != 2, let low = f.edges.first, let high = f.edges.last, high > low {
                let cells = SlidingWindow.guideCells(edges: f.edges.count)
                lane.guideCells = cells
                lane.low = low
                lane.high = high
                lane.scale = Double(cells) / (high - low)
                var table = [Int32](repeating: 0, count: cells + 1)
                for e in f.edges {
                    let cell = min(cells - 1, max(0, Int((e - low) * lane.scale)))
                    table[cell + 1] += 1
                }
                for c in 1...cells { table[c] += table[c - 1] }
                guide.append(contentsOf: table)
            }
            lanes.append(lane)
            total += f.binCount
            edgeStore.append(contentsOf: f.edges)
            var map: [String: Int] = [:]
            for (i, c) in f.categories.enumerated() { map[c] = i }
            index.append(map)
        }
        self.offsets = offsets
        self.totalBins = total
        self.slots = s + 1
        self.lanes = lanes
        self.edgeStore = edgeStore
        self.guide = guide
        self.categoryIndex = index
        counts = [Double](repeating: 0, count: slots * total)
        sums = [Double](repeating: 0, count: slots * total)
        slotEvents = [Int](repeating: 0, count: slots)
        slotIds = [Int](repeating: Int.min, count: slots)
        openId = 0
        openEvents = 0
        closedSinceEvaluation = 0
        started = false
        merged = [Double](repeating: 0, count: total)
        mergedSums = [Double](repeating: 0, count: total)
        slotIds[0] = 0
    }

    /// The code to pass for a categorical value of feature `feature` (its bin as a Double).
    package func categoryCode(feature: Int, _ value: String?) -> Double {
        guard let value else { return .nan }
        return Double(categoryIndex[feature][value] ?? profile.features[feature].categories.count)
    }

    /// Adds one event. `values` holds one entry per profile feature: the number for
    /// numerical features, `categoryCode(feature:_:)` for categorical ones, NaN when missing
    /// (non-finite numbers count as missing, as in the profile).
    /// `eventTime` (seconds) is used by time windows only.
    /// - Returns: true when an evaluation is due (enough sub-windows closed).
    @discardableResult
    package mutating func add(values: UnsafeBufferPointer<Double>, eventTime: Double = 0) -> Bool {
        precondition(values.count == offsets.count, "one value per profile feature expected")
        var due = false
        let slot: Int
        switch policy {
        case .count:
            slot = openId % slots
            insert(values: values, slot: slot)
            slotEvents[slot] += 1
            openEvents += 1
            if openEvents == eventsPerSubwindow { due = close(through: openId + 1) }
        case .time:
            guard let id = subwindowId(of: eventTime) else {
                droppedInvalidTime += 1
                return false
            }
            if !started {
                started = true
                openId = id
                for k in 0..<slots {
                    let past = id - k
                    slotIds[((past % slots) + slots) % slots] = past
                }
            }
            if id > openId { due = close(through: id) }
            if id <= openId - slots {
                droppedLate += 1
                return due
            }
            slot = ((id % slots) + slots) % slots
            insert(values: values, slot: slot)
            slotEvents[slot] += 1
        }
        return due
    }

    /// Convenience for `add(values:eventTime:)` with an array.
    @discardableResult
    package mutating func add(_ values: [Double], eventTime: Double = 0) -> Bool {
        values.withUnsafeBufferPointer { add(values: $0, eventTime: eventTime) }
    }

    /// Closes sub-windows for a time window whose event time reached `time` with no event.
    @discardableResult
    package mutating func advance(to time: Double) -> Bool {
        guard case .time = policy, started, let id = subwindowId(of: time) else { return false }
        return id > openId ? close(through: id) : false
    }

    /// The aligned sub-window of an event time, nil for NaN, ±∞ or absurd magnitudes.
    private func subwindowId(of time: Double) -> Int? {
        let cell = (time / subwindowSeconds).rounded(.down)
        guard cell.isFinite, abs(cell) < 0x1p60 else { return nil }
        return Int(cell)
    }

    private mutating func insert(values: UnsafeBufferPointer<Double>, slot: Int) {
        let base = slot &* totalBins
        counts.withUnsafeMutableBufferPointer { c in
            sums.withUnsafeMutableBufferPointer { s in
                edgeStore.withUnsafeBufferPointer { edges in
                  guide.withUnsafeBufferPointer { guide in
                    lanes.withUnsafeBufferPointer { lanes in
                        for f in 0..<lanes.count {
                            let v = values[f]
                            if !v.isFinite { continue }  // NaN and ±∞ count as missing
                            let lane = lanes[f]
                            let bin: Int
                            if lane.mode == 2 {
                                // Codes outside the layout (not from categoryCode) count as "other".
                                bin = (v >= 0 && v < Double(lane.edgeCount)) ? Int(v) : lane.edgeCount
                            } else {
                                bin = SlidingWindow.bin(of: v, lane: lane, edges: edges, guide: guide)
                            }
                            let at = base &+ lane.offset &+ bin
                            c[at] += 1
                            s[at] += v
                        }
                    }
                  }
                }
            }
        }
    }

    /// The bin of a numerical value: the number of edges ≤ value (found through the
    /// guide table, scanning only the edges in the value's cell), then the discrete check.
    @inline(__always)
    private static func bin(of value: Double, lane: Lane, edges: UnsafeBufferPointer<Double>, guide: UnsafeBufferPointer<Int32>) -> Int {
        let count = lane.edgeCount
        guard count > 0 else { return 0 }
        var upper: Int
        if lane.scale == 0 {
            // a single edge (or all equal)
            upper = edges[lane.edgeStart] <= value ? count : 0
        } else if value < lane.low {
            upper = 0
        } else if value >= lane.high {
            upper = count
        } else {
            let cell = min(lane.guideCells &- 1, Int((value - lane.low) * lane.scale))
            upper = Int(guide[lane.guideStart &+ cell])
            while upper < count && edges[lane.edgeStart &+ upper] <= value { upper &+= 1 }
        }
        if lane.mode == 1 {
            return (upper > 0 && edges[lane.edgeStart &+ upper &- 1] == value) ? upper &- 1 : count
        }
        return upper
    }

    /// Opens sub-window `newId`, closing everything before it.
    private mutating func close(through newId: Int) -> Bool {
        let steps = newId - openId
        closedSinceEvaluation += steps
        openId = newId
        openEvents = 0
        // Clear every slot whose id falls out of (newId - slots, newId].
        for k in 0..<min(steps, slots) {
            let id = newId - k
            let slot = ((id % slots) + slots) % slots
            if slotIds[slot] != id {
                clear(slot: slot)
                slotIds[slot] = id
            }
        }
        if closedSinceEvaluation >= evaluateEvery {
            closedSinceEvaluation = 0
            return true
        }
        return false
    }

    private mutating func clear(slot: Int) {
        let base = slot * totalBins
        for i in base..<(base + totalBins) {
            counts[i] = 0
            sums[i] = 0
        }
        slotEvents[slot] = 0
    }

    /// Events currently in the closed sub-windows (what `evaluate` tests).
    package var events: Int {
        var n = 0
        for k in 1..<slots {
            let id = openId - k
            let slot = ((id % slots) + slots) % slots
            if slotIds[slot] == id { n += slotEvents[slot] }
        }
        return n
    }

    /// Counts per bin of feature `feature` over the closed sub-windows (layout as in `FeatureProfile`).
    package func histogram(feature: Int) -> [Double] {
        let range = offsets[feature]..<(offsets[feature] + profile.features[feature].binCount)
        var out = [Double](repeating: 0, count: range.count)
        for k in 1..<slots {
            let id = openId - k
            let slot = ((id % slots) + slots) % slots
            guard slotIds[slot] == id else { continue }
            let base = slot * totalBins
            for (j, i) in range.enumerated() { out[j] += counts[base + i] }
        }
        return out
    }

    /// Tests the closed sub-windows against the reference.
    package mutating func evaluate(configuration: DriftConfiguration = DriftConfiguration()) -> WindowEvaluation {
        for i in 0..<totalBins {
            merged[i] = 0
            mergedSums[i] = 0
        }
        var events = 0
        for k in 1..<slots {
            let id = openId - k
            let slot = ((id % slots) + slots) % slots
            guard slotIds[slot] == id else { continue }
            events += slotEvents[slot]
            let base = slot * totalBins
            for i in 0..<totalBins {
                merged[i] += counts[base + i]
                mergedSums[i] += sums[base + i]
            }
        }
        var results: [FeatureDriftResult] = []
        results.reserveCapacity(offsets.count)
        var drifted = 0
        merged.withUnsafeBufferPointer { m in
            mergedSums.withUnsafeBufferPointer { ms in
                for (f, feature) in profile.features.enumerated() {
                    let range = offsets[f]..<(offsets[f] + feature.binCount)
                    let c = UnsafeBufferPointer(rebasing: m[range])
                    let s = UnsafeBufferPointer(rebasing: ms[range])
                    var seen = 0.0
                    for x in c { seen += x }
                    let choice = configuration.resolve(feature: feature.name, referenceSize: feature.count, kind: feature.kind, uniqueCount: feature.uniqueCount)
                    let result = BinnedDriftTests.run(test: choice.test, threshold: choice.threshold, profile: feature, counts: c, sums: s, configuration: configuration)
                    if result.drifted { drifted += 1 }
                    results.append(FeatureDriftResult(feature: feature.name, result: result, events: Int(seen)))
                }
            }
        }
        let start: Double, end: Double
        switch policy {
        case .count(let n, _):
            end = Double(openId * eventsPerSubwindow)
            start = max(0, end - Double(n))
        case .time(let seconds, _):
            end = Double(openId) * subwindowSeconds
            start = end - seconds
        }
        return WindowEvaluation(
            features: results, driftedFeatures: drifted,
            datasetDrifted: configuration.datasetDrifted(driftedFeatures: drifted, totalFeatures: results.count),
            events: events, start: start, end: end)
    }
}
