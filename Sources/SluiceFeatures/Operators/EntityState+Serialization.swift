extension EntityState {
    /// Version of the serialized layout written by `serialize(into:)`.
    package static let formatVersion: UInt8 = 2

    /// Appends the state's bytes to `bytes`.
    ///
    /// Layout: version byte, the engine fingerprint (8 bytes LE), a has-events flag, the latest event time,
    /// then the lifetime features in spec order, then per window group (distinct window and tile, in order
    /// of first appearance) its tiles: count, then per tile the delta-encoded index and every member
    /// feature's accumulator in spec order. Doubles are stored bit-exactly, so a restored state continues
    /// with bit-identical results. Derived caches are not stored; they are rebuilt from the tiles.
    package func serialize(into bytes: inout [UInt8]) {
        let bound = serializedSizeBound
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: bound))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var w = RawStateWriter(base: base + start, capacity: bound)
            write(into: &w)
            return w.count
        }
        bytes.removeLast(bound - written)
    }

    /// Writes the state (see `serialize(into:)`).
    private func write<W: StateSink>(into w: inout W) {
        w.byte(Self.formatVersion)
        w.uint64(fingerprint)
        w.byte(hasEvents ? 1 : 0)
        if !hasEvents { return }
        w.signed(latestEventTimeMillis)
        let features = plan.features
        for i in plan.lifetimeMembers {
            let f = features[i]
            switch f.op {
            case .timeSinceLast:
                continue
            case .value:
                w.signed(hot[f.slot].time)
                w.fieldValue(lifetimeValues[f.valueSlot])
            case .last:
                Self.write(f.op, hot[f.slot], value: lifetimeValues[f.valueSlot], timeBase: 0, into: &w)
            case .approxDistinct:
                Self.write(f.op, hot[f.slot], sketch: lifetimeSketches[f.sketchSlot], into: &w)
            default:
                Self.write(f.op, hot[f.slot], timeBase: 0, into: &w)
            }
        }
        let members = plan.members
        hot.withUnsafeBufferPointer { hotBuffer in
            guard let hotBase = hotBuffer.baseAddress else { return }
            for g in plan.groups.indices {
                let group = plan.groups[g]
                let h = hotBase + group.hotBase
                let tiles = windows[g]
                let width = group.width
                let cold = tiles.coldCount(width)
                let count = cold + (WindowTiles.hasNewest(h) ? 1 : 0)
                w.varint(UInt64(count))
                var previous: Int64 = 0
                tiles.accumulators.withUnsafeBufferPointer { acc in
                    for p in 0..<count {
                        let index = p < cold ? acc[p * width].index : WindowTiles.newestIndex(h)
                        if p == 0 { w.signed(index) } else { w.varint(UInt64(index &- previous)) }
                        previous = index
                        for j in 0..<width {
                            let f = features[members[group.memberStart + j]]
                            let tile = p < cold ? acc[p * width + j] : h[WindowTiles.newest(j, width)]
                            switch f.op {
                            case .last:
                                Self.write(f.op, tile, value: tiles.values[(p + 1) * group.valueCount + f.valueSlot], timeBase: (index &- 1) &* group.tileMillis, into: &w)
                            case .approxDistinct:
                                Self.write(f.op, tile, sketch: tiles.sketches[p * group.sketchCount + f.sketchSlot], into: &w)
                            default:
                                Self.write(f.op, tile, timeBase: 0, into: &w)
                            }
                        }
                    }
                }
            }
        }
    }

    /// An upper bound of the serialized size.
    private var serializedSizeBound: Int {
        // Per accumulator at most: count varint (10), two doubles (16), a relative time (10).
        var size = 32 + hot.count * 36
        for value in lifetimeValues { size += Self.sizeBound(value) }
        for sketch in lifetimeSketches { size += sketch.serializedSizeBound }
        for g in windows.indices {
            let tiles = windows[g]
            size += 10 + tiles.accumulators.count * 36 + (tiles.accumulators.count / Swift.max(plan.groups[g].width, 1) + 1) * 10
            for value in tiles.values { size += Self.sizeBound(value) }
            for sketch in tiles.sketches { size += sketch.serializedSizeBound }
        }
        return size
    }

    @inline(__always)
    private static func sizeBound(_ value: FieldValue) -> Int {
        if case .string(let s) = value { return 11 + s.utf8.count }
        return 11
    }

    @inline(__always)
    private static func write<W: StateSink>(_ op: CompiledFeature.Op, _ t: FeatureTile, value: FieldValue = .null, sketch: HyperLogLog? = nil, timeBase: Int64 = 0, into w: inout W) {
        switch op {
        case .count:
            w.varint(UInt64(t.n))
        case .sum, .mean:
            let hasCompensation = t.y.bitPattern != 0
            w.varint(UInt64(t.n) << 1 | (hasCompensation ? 1 : 0))
            if t.n > 0 { w.double(t.x) }
            if hasCompensation { w.double(t.y) }
        case .min, .max:
            w.varint(UInt64(t.n))
            if t.n > 0 { w.double(t.x) }
        case .variance, .stddev:
            w.varint(UInt64(t.n))
            if t.n > 0 {
                w.double(t.x)
                w.double(t.y)
            }
        case .last:
            w.varint(UInt64(t.n))
            if t.n > 0 {
                w.signed(t.time &- timeBase)
                w.fieldValue(value)
            }
        case .approxDistinct:
            w.varint(UInt64(t.n))
            if t.n > 0, let sketch { sketch.serialize(into: &w) }
        case .value, .timeSinceLast:
            break
        }
    }

    /// Restores a state written by `serialize(into:)`.
    ///
    /// - Throws: `EntityStateError` when the version is unknown, the state was written for a different
    ///   feature set (fingerprint mismatch), or the bytes are truncated or inconsistent.
    package init(deserializing bytes: UnsafeRawBufferPointer, engine: FeatureEngine) throws(EntityStateError) {
        self.init(engine: engine)
        var r = StateReader(bytes)
        let version = try r.byte()
        guard version == Self.formatVersion else {
            throw EntityStateError(reason: .unsupportedVersion, message: "entity state has format version \(version), this build reads version \(Self.formatVersion)")
        }
        let stored = try r.uint64()
        guard stored == engine.fingerprint else {
            throw EntityStateError(
                reason: .featureSetMismatch,
                message: "entity state was written for a different feature set (fingerprint \(Self.hex(stored)), current feature specs have \(Self.hex(engine.fingerprint))); the features changed since it was saved"
            )
        }
        switch try r.byte() {
        case 0:
            guard r.isAtEnd else { throw r.corrupt("bytes after an empty state") }
            return
        case 1: break
        case let flag: throw r.corrupt("unknown state flag \(flag)")
        }
        hasEvents = true
        latestEventTimeMillis = try r.signed()
        let features = plan.features
        for i in plan.lifetimeMembers {
            let f = features[i]
            switch f.op {
            case .timeSinceLast:
                continue
            case .value:
                hot[f.slot].time = try r.signed()
                lifetimeValues[f.valueSlot] = try r.fieldValue()
            default:
                var tile = FeatureTile()
                var value: FieldValue = .null
                var sketch = HyperLogLog()
                try Self.read(f.op, &tile, &value, &sketch, timeBase: 0, from: &r)
                if f.op == .last { lifetimeValues[f.valueSlot] = value }
                if f.op == .approxDistinct { lifetimeSketches[f.sketchSlot] = sketch }
                tile.index = -1 // the derived estimate cache: stale
                hot[f.slot] = tile
            }
        }
        let members = plan.members
        windows.removeAll(keepingCapacity: true)
        for g in plan.groups.indices {
            let group = plan.groups[g]
            let count = try r.count(limit: bytes.count)
            if count == 0 {
                windows.append(WindowTiles())
                continue
            }
            var tiles = WindowTiles()
            if count > 1 { tiles.accumulators.reserveCapacity((count - 1) * group.width) }
            if group.valueCount > 0 {
                tiles.values.reserveCapacity((count + 1) * group.valueCount)
                for _ in 0..<group.valueCount { tiles.values.append(.null) }
            }
            if group.sketchCount > 0 {
                tiles.sketches.reserveCapacity(count * group.sketchCount)
            }
            var previous: Int64 = 0
            for p in 0..<count {
                let index: Int64
                if p == 0 {
                    index = try r.signed()
                } else {
                    let delta = try r.varint()
                    guard delta > 0, delta < UInt64(Int64.max) else { throw r.corrupt("tile indices not ascending") }
                    index = previous &+ Int64(delta)
                }
                previous = index
                for j in 0..<group.width {
                    let f = features[members[group.memberStart + j]]
                    var tile = FeatureTile()
                    tile.index = index
                    var value: FieldValue = .null
                    var sketch = HyperLogLog()
                    try Self.read(f.op, &tile, &value, &sketch, timeBase: (index &- 1) &* group.tileMillis, from: &r)
                    if p == count - 1 {
                        // The newest tile lives in the hot block.
                        hot[group.hotBase + WindowTiles.newest(j, group.width)] = tile
                    } else {
                        tiles.accumulators.append(tile)
                    }
                    if f.op == .last { tiles.values.append(value) }
                    if f.op == .approxDistinct { tiles.sketches.append(sketch) }
                }
            }
            hot[group.hotBase].index = previous
            hot[group.hotBase].time = 1
            windows.append(tiles)
        }
        guard r.isAtEnd else { throw r.corrupt("\(bytes.count - r.offset) unexpected trailing bytes") }
    }
    /// Restores a state written by `serialize(into:)` from an array slice.
    ///
    /// - Throws: `EntityStateError`, see `init(deserializing:engine:)` for raw buffers.
    package init(deserializing bytes: ArraySlice<UInt8>, engine: FeatureEngine) throws(EntityStateError) {
        let result: Result<EntityState, EntityStateError> = bytes.withUnsafeBytes { raw in
            do throws(EntityStateError) {
                return .success(try EntityState(deserializing: raw, engine: engine))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    private static func read(
        _ op: CompiledFeature.Op, _ t: inout FeatureTile, _ value: inout FieldValue, _ sketch: inout HyperLogLog,
        timeBase: Int64, from r: inout StateReader
    ) throws(EntityStateError) {
        func count() throws(EntityStateError) -> Int64 {
            let n = try r.varint()
            guard n <= UInt64(Int64.max) else { throw r.corrupt("count out of range") }
            return Int64(n)
        }
        switch op {
        case .count:
            t.n = try count()
        case .sum, .mean:
            let header = try r.varint()
            t.n = Int64(header >> 1)
            if t.n > 0 { t.x = try r.double() }
            if header & 1 == 1 { t.y = try r.double() }
        case .min, .max:
            t.n = try count()
            if t.n > 0 { t.x = try r.double() }
        case .variance, .stddev:
            t.n = try count()
            if t.n > 0 {
                t.x = try r.double()
                t.y = try r.double()
            }
        case .last:
            t.n = try count()
            if t.n > 0 {
                t.time = timeBase &+ (try r.signed())
                value = try r.fieldValue()
            }
        case .approxDistinct:
            t.n = try count()
            if t.n > 0 { sketch = try HyperLogLog(reading: &r) }
        case .value, .timeSinceLast:
            break
        }
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
