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
        words.withUnsafeBufferPointer { wordBuffer in
            let base = UnsafeMutablePointer(mutating: wordBuffer.baseAddress!)
            for i in plan.lifetimeMembers {
                let f = features[i]
                switch f.op {
                case .timeSinceLast:
                    continue
                case .value:
                    w.signed(Int64(bitPattern: base[f.word]))
                    w.fieldValue(values[f.valueSlot])
                case .last:
                    Self.write(f.op, FeatureTile(f.op, at: base + f.word), value: values[f.valueSlot], timeBase: 0, into: &w)
                case .approxDistinct:
                    Self.write(f.op, FeatureTile(f.op, at: base + f.word), into: &w)
                    if base[f.word] > 0 { lifetimeSketches[f.sketchSlot].serialize(into: &w) }
                default:
                    Self.write(f.op, FeatureTile(f.op, at: base + f.word), timeBase: 0, into: &w)
                }
            }
            let members = plan.members
            sketchPool.withUnsafeBufferPointer { pool in
                let poolBase = pool.baseAddress ?? UnsafePointer(bitPattern: 8)!
                var runOffset = 0
                for gi in plan.groups.indices {
                    let group = plan.groups[gi]
                    let tiles = TileRecords(base, group, coldStart: coldStart(gi))
                    let vs = group.valueCount > 0 ? valueStart(gi) : 0
                    let groupPoolEnd = runOffset + Int(truncatingIfNeeded: base[group.hotBase + 1])
                    w.varint(UInt64(tiles.count))
                    var previous: Int64 = 0
                    for p in 0..<tiles.count {
                        let record = tiles.record(p)
                        // The union runs (derived, not stored) lie between the cold and the newest runs.
                        if p == tiles.cold && group.sketchCount > 0 { runOffset += unionsLength(group) }
                        let index = Int64(bitPattern: record[0])
                        if p == 0 { w.signed(index) } else { w.varint(UInt64(index &- previous)) }
                        previous = index
                        for j in 0..<group.width {
                            let f = features[members[group.memberStart + j]]
                            let tile = FeatureTile(f.op, at: record + f.word)
                            switch f.op {
                            case .last:
                                Self.write(f.op, tile, value: values[vs + (p + 1) * group.valueCount + f.valueSlot], timeBase: (index &- 1) &* group.tileMillis, into: &w)
                            case .approxDistinct:
                                Self.write(f.op, tile, into: &w)
                                let info = record[f.word + 1]
                                if tile.n > 0 { SketchRun.serialize(poolBase + runOffset, info: info, into: &w) }
                                runOffset += SketchRun.length(info)
                            default:
                                Self.write(f.op, tile, timeBase: 0, into: &w)
                            }
                        }
                    }
                    // Skip the group's union runs (derived, not stored).
                    runOffset = groupPoolEnd
                }
            }
        }
    }

    /// An upper bound of the serialized size: per word at most a varint and a double (a tile index, a
    /// count, a relative time, a run header), per pool entry 2 bytes (a dense run of 512 entries writes
    /// 768 bytes), plus the kept values and lifetime sketches.
    private var serializedSizeBound: Int {
        var size = 32 + 22 * words.count + 2 * sketchPool.count
        for value in values { size += Self.sizeBound(value) }
        for sketch in lifetimeSketches { size += sketch.serializedSizeBound }
        return size
    }

    @inline(__always)
    private static func sizeBound(_ value: FieldValue) -> Int {
        if case .string(let s) = value { return 11 + s.utf8.count }
        return 11
    }

    @inline(__always)
    private static func write<W: StateSink>(_ op: CompiledFeature.Op, _ t: FeatureTile, value: FieldValue = .null, timeBase: Int64 = 0, into w: inout W) {
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
            // The sketch follows when n > 0; the caller writes it.
            w.varint(UInt64(t.n))
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
                words[f.word] = UInt64(bitPattern: try r.signed())
                values[f.valueSlot] = try r.fieldValue()
            default:
                var tile = FeatureTile()
                var value: FieldValue = .null
                var sketch = HyperLogLog()
                try Self.read(f.op, &tile, &value, &sketch, timeBase: 0, from: &r)
                if f.op == .last { values[f.valueSlot] = value }
                if f.op == .approxDistinct {
                    lifetimeSketches[f.sketchSlot] = sketch
                    words[f.word + 1] = UInt64(bitPattern: -1) // the derived estimate cache: stale
                }
                words.withUnsafeMutableBufferPointer { tile.store(f.op, at: $0.baseAddress! + f.word) }
            }
        }
        let members = plan.members
        for gi in plan.groups.indices {
            let group = plan.groups[gi]
            let count = try r.count(limit: bytes.count)
            if count == 0 { continue }
            // Groups are read in order: this group's runs and values go last. Its cold records go after
            // those of the groups read so far that precede it in `coldOrder` (a group read later that
            // precedes it will insert its records before these).
            let cs = coldStart(gi)
            insertZeroWords((count - 1) * group.stride, at: cs)
            let poolBefore = sketchPool.count
            if group.valueCount > 0 {
                values.insert(contentsOf: repeatElement(FieldValue.null, count: count * group.valueCount), at: valueStart(gi) + group.valueCount)
            }
            let vs = group.valueCount > 0 ? valueStart(gi) : 0
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
                let record = p == count - 1 ? group.newest : cs + p * group.stride
                words[record] = UInt64(bitPattern: index)
                let timeBase = (index &- 1) &* group.tileMillis
                for j in 0..<group.width {
                    let f = features[members[group.memberStart + j]]
                    var tile = FeatureTile()
                    if f.op == .approxDistinct {
                        let n = try r.varint()
                        guard n <= UInt64(Int64.max) else { throw r.corrupt("count out of range") }
                        tile.n = Int64(n)
                        if n > 0 { words[record + f.word + 1] = try SketchRun.read(from: &r, appendingTo: &sketchPool) }
                    } else {
                        var value: FieldValue = .null
                        var unused = HyperLogLog()
                        try Self.read(f.op, &tile, &value, &unused, timeBase: timeBase, from: &r)
                        if f.op == .last { values[vs + (p + 1) * group.valueCount + f.valueSlot] = value }
                    }
                    words.withUnsafeMutableBufferPointer { tile.store(f.op, at: $0.baseAddress! + record + f.word) }
                }
            }
            words[group.hotBase] = UInt64((count - 1) << 1 | 1)
            words[group.hotBase + 1] = UInt64(sketchPool.count - poolBefore)
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
