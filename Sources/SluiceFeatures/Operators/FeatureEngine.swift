/// Computes feature values event by event from per-entity state.
///
/// Deterministic: outputs depend only on the specs and on the sequence of events applied to the entity
/// (never on hashing seeds, dictionary order or whether the state was serialized and restored in between).
package struct FeatureEngine: Sendable {
    /// The feature specs, in output order.
    package let specs: [FeatureSpec]
    /// The event schema the specs were resolved against.
    package let schema: EventSchema
    /// A stable 64-bit fingerprint of the specs (and the fields they read); stored in serialized states.
    package let fingerprint: UInt64
    let layout: [CompiledFeature]

    /// Validates `specs` against `schema` and prepares the engine.
    ///
    /// - Throws: `FeatureSpecError` for the first invalid spec, or a duplicated feature name.
    package init(specs: [FeatureSpec], schema: EventSchema) throws(FeatureSpecError) {
        var seen = Set<String>()
        var layout: [CompiledFeature] = []
        var w = StateWriter(bytes: [])
        w.fieldValue(.string("sluice.features.v1"))
        for spec in specs {
            try spec.validate(against: schema)
            guard seen.insert(spec.name).inserted else {
                throw FeatureSpecError(feature: spec.name, "the name is used by more than one feature; names must be unique")
            }
            w.fieldValue(.string(spec.name))
            switch spec.kind {
            case .value(let field):
                let index = schema.index(of: field) ?? -1
                layout.append(CompiledFeature(op: .value, field: index, tileMillis: 0, tilesPerWindow: 0))
                w.byte(0)
                w.fieldValue(.string(field))
                w.fieldValue(.string(schema.fields[index].type.rawValue))
            case .aggregate(let kind, let of, let window):
                var compiled = CompiledFeature(op: CompiledFeature.Op(kind), field: -1, tileMillis: 0, tilesPerWindow: 0)
                w.byte(1)
                w.fieldValue(.string(kind.rawValue))
                if let of, let index = schema.index(of: of) {
                    compiled.field = index
                    w.fieldValue(.string(of))
                    w.fieldValue(.string(schema.fields[index].type.rawValue))
                } else {
                    w.fieldValue(.null)
                }
                if case .sliding(let duration, let tile) = window {
                    compiled.tileMillis = tile
                    compiled.tilesPerWindow = duration / tile
                }
                w.signed(compiled.tileMillis)
                w.signed(compiled.tilesPerWindow)
                layout.append(compiled)
            }
        }
        self.specs = specs
        self.schema = schema
        self.layout = layout
        self.fingerprint = w.bytes.withUnsafeBytes { XXHash64.hash($0, seed: 0x51_1CE0) }
    }

    /// A new, empty entity state for this engine.
    package func makeState() -> EntityState {
        EntityState(engine: self)
    }

    /// Applies `event` to `state` and writes every feature's value as of the event's time into `output`.
    ///
    /// `output` is resized to `specs.count` when needed and indexed like `specs`. The caller has already
    /// rejected late events (see `LatenessTracker`); an out-of-order event updates the tile its time falls
    /// in and gets the values as of its own time computed from everything known (docs/features.md).
    /// `event.values` must be indexed like `schema.fields`; missing trailing values count as null.
    package func apply(_ event: DecodedEvent, to state: inout EntityState, output: inout [FieldValue]) {
        precondition(state.fingerprint == fingerprint, "entity state belongs to a different feature engine")
        if output.count != layout.count {
            output = Array(repeating: .null, count: layout.count)
        }
        let t = event.eventTimeMillis
        let hadEvents = state.hasEvents
        let previousLatest = state.latestEventTimeMillis
        layout.withUnsafeBufferPointer { layout in
            event.values.withUnsafeBufferPointer { values in
                state.features.withUnsafeMutableBufferPointer { features in
                    output.withUnsafeMutableBufferPointer { out in
                        for i in 0..<layout.count {
                            let f = layout[i]
                            let v: FieldValue = f.field >= 0 && f.field < values.count ? values[f.field] : .null
                            switch f.op {
                            case .value:
                                out[i] = v
                                if !hadEvents || t >= features[i].lifetime.time {
                                    features[i].lifetime.time = t
                                    features[i].lifetimeValue = v
                                }
                            case .timeSinceLast:
                                out[i] = hadEvents && t >= previousLatest ? .double(Double(t &- previousLatest) / 1_000) : .null
                            default:
                                if f.isSliding {
                                    out[i] = Self.applySliding(f, v, t, &features[i])
                                } else {
                                    out[i] = Self.applyLifetime(f, v, t, &features[i])
                                }
                            }
                        }
                    }
                }
            }
        }
        state.hasEvents = true
        if !hadEvents || t > previousLatest { state.latestEventTimeMillis = t }
    }

    @inline(__always)
    private static func applyLifetime(_ f: CompiledFeature, _ v: FieldValue, _ t: Int64, _ s: inout FeatureState) -> FieldValue {
        if s.lifetime.add(f.op, v, time: t) { s.lifetimeValue = v }
        if f.op == .approxDistinct {
            if let hash = v.stableHash, s.lifetimeSketch.insert(hash: hash).changed {
                s.lifetimeEstimate = -1
            }
            if s.lifetimeEstimate < 0 { s.lifetimeEstimate = HyperLogLog.rounded(s.lifetimeSketch.estimate()) }
            return .int(s.lifetimeEstimate)
        }
        return s.lifetime.output(f.op, last: s.lifetimeValue)
    }

    @inline(__always)
    private static func applySliding(_ f: CompiledFeature, _ v: FieldValue, _ t: Int64, _ s: inout FeatureState) -> FieldValue {
        let k = CompiledFeature.tileIndex(t, f.tileMillis)
        let n = f.tilesPerWindow
        let p = s.tilePosition(for: k, op: f.op)
        if s.tiles[p].add(f.op, v, time: t) { s.tileValues[p] = v }
        let isNewest = p == s.tiles.count - 1
        if f.op == .approxDistinct {
            if let hash = v.stableHash {
                let (index, rank, changed) = s.tileSketches[p].insert(hash: hash)
                if changed {
                    s.distinctMemoEnd = .min
                    if let end = s.distinct?.end, k > end &- n, k <= end {
                        s.distinct!.raise(index: index, rank: rank)
                    }
                }
            }
            return .int(s.distinctEstimate(end: k, n: n, isNewest: isNewest))
        }
        if isNewest {
            if s.prefixEnd != k { s.advancePrefix(f.op, end: k, n: n) }
            var acc = s.prefix
            var last = s.prefixValue
            if acc.merge(f.op, s.tiles[p]) && f.op == .last { last = s.tileValues[p] }
            return acc.output(f.op, last: last)
        }
        // Out of order into an older tile: the cached prefix may cover it.
        if s.prefixEnd != .min && k > s.prefixEnd &- n && k < s.prefixEnd { s.prefixEnd = .min }
        let (acc, last) = s.fold(f.op, lo: k &- n, hi: k)
        return acc.output(f.op, last: last)
    }

    /// Writes every feature's value for a read at `asOf` (event-time milliseconds) into `output`.
    ///
    /// Sliding windows are evaluated at `asOf` with the same tile semantics as `apply` (so a window with no
    /// recent events reads count 0, mean null, …). Lifetime aggregates, `value` and `last` (lifetime) report
    /// the newest known state. `time_since_last` is the time from the latest event to `asOf` (null if
    /// `asOf` is before it). Results for `asOf` before the eviction watermark lack evicted tiles.
    package func values(of state: EntityState, asOf: Int64, output: inout [FieldValue]) {
        precondition(state.fingerprint == fingerprint, "entity state belongs to a different feature engine")
        if output.count != layout.count {
            output = Array(repeating: .null, count: layout.count)
        }
        for i in layout.indices {
            let f = layout[i]
            let s = state.features[i]
            guard state.hasEvents else {
                output[i] = f.op == .count || f.op == .approxDistinct ? .int(0) : (f.op == .sum ? .double(0) : .null)
                continue
            }
            switch f.op {
            case .value:
                output[i] = s.lifetimeValue
            case .timeSinceLast:
                let latest = state.latestEventTimeMillis
                output[i] = asOf >= latest ? .double(Double(asOf &- latest) / 1_000) : .null
            case .approxDistinct:
                if f.isSliding {
                    let k = CompiledFeature.tileIndex(asOf, f.tileMillis)
                    output[i] = .int(s.unionEstimate(lo: k &- f.tilesPerWindow, hi: k))
                } else {
                    output[i] = .int(HyperLogLog.rounded(s.lifetimeSketch.estimate()))
                }
            default:
                if f.isSliding {
                    let k = CompiledFeature.tileIndex(asOf, f.tileMillis)
                    let (acc, last) = s.fold(f.op, lo: k &- f.tilesPerWindow, hi: k)
                    output[i] = acc.output(f.op, last: last)
                } else {
                    output[i] = s.lifetime.output(f.op, last: s.lifetimeValue)
                }
            }
        }
    }
}
