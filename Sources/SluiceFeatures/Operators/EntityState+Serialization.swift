extension EntityState {
    /// Version of the serialized layout written by `serialize(into:)`.
    package static let formatVersion: UInt8 = 1

    /// Appends the state's bytes to `bytes`.
    ///
    /// Layout: version byte, the engine fingerprint (8 bytes LE), then varints/LE doubles per feature in spec
    /// order. Doubles are stored bit-exactly, so a restored state continues with bit-identical results.
    /// Derived caches are not stored; they are rebuilt from the tiles.
    package func serialize(into bytes: inout [UInt8]) {
        var w = StateWriter(bytes: [])
        swap(&w.bytes, &bytes)
        defer { swap(&w.bytes, &bytes) }
        w.byte(Self.formatVersion)
        w.uint64(fingerprint)
        w.byte(hasEvents ? 1 : 0)
        if !hasEvents { return }
        w.signed(latestEventTimeMillis)
        for i in layout.indices {
            let f = layout[i]
            let s = features[i]
            switch f.op {
            case .timeSinceLast:
                continue
            case .value:
                w.signed(s.lifetime.time)
                w.fieldValue(s.lifetimeValue)
            default:
                if !f.isSliding {
                    Self.write(f.op, s.lifetime, s.lifetimeValue, s.lifetimeSketch, timeBase: 0, into: &w)
                    continue
                }
                w.varint(UInt64(s.tiles.count))
                var previous: Int64 = 0
                for (j, tile) in s.tiles.enumerated() {
                    if j == 0 { w.signed(tile.index) } else { w.varint(UInt64(tile.index - previous)) }
                    previous = tile.index
                    Self.write(
                        f.op, tile,
                        f.op == .last ? s.tileValues[j] : .null,
                        f.op == .approxDistinct ? s.tileSketches[j] : HyperLogLog(),
                        timeBase: (tile.index &- 1) &* f.tileMillis,
                        into: &w
                    )
                }
            }
        }
    }

    private static func write(
        _ op: CompiledFeature.Op, _ t: FeatureTile, _ value: FieldValue, _ sketch: HyperLogLog,
        timeBase: Int64, into w: inout StateWriter
    ) {
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
            if t.n > 0 { sketch.serialize(into: &w) }
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
        for i in layout.indices {
            let f = layout[i]
            switch f.op {
            case .timeSinceLast:
                continue
            case .value:
                features[i].lifetime.time = try r.signed()
                features[i].lifetimeValue = try r.fieldValue()
            default:
                if !f.isSliding {
                    var s = FeatureState()
                    try Self.read(f.op, &s.lifetime, &s.lifetimeValue, &s.lifetimeSketch, timeBase: 0, from: &r)
                    features[i] = s
                    continue
                }
                let count = try r.count(limit: bytes.count)
                var s = FeatureState()
                s.tiles.reserveCapacity(count)
                var previous: Int64 = 0
                for j in 0..<count {
                    var tile = FeatureTile()
                    if j == 0 {
                        tile.index = try r.signed()
                    } else {
                        let delta = try r.varint()
                        guard delta > 0, delta < UInt64(Int64.max) else { throw r.corrupt("tile indices not ascending") }
                        tile.index = previous &+ Int64(delta)
                    }
                    previous = tile.index
                    var value: FieldValue = .null
                    var sketch = HyperLogLog()
                    try Self.read(f.op, &tile, &value, &sketch, timeBase: (tile.index &- 1) &* f.tileMillis, from: &r)
                    s.tiles.append(tile)
                    if f.op == .last { s.tileValues.append(value) }
                    if f.op == .approxDistinct { s.tileSketches.append(sketch) }
                }
                features[i] = s
            }
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
