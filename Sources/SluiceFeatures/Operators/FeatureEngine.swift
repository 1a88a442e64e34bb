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
    /// The compiled features and window groups, shared with every state.
    let plan: FeaturePlan

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
        self.plan = FeaturePlan(features: layout)
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
        let plan = self.plan
        if output.count != plan.features.count {
            output = Array(repeating: .null, count: plan.features.count)
        }
        let t = event.eventTimeMillis
        let hadEvents = state.hasEvents
        let previousLatest = state.latestEventTimeMillis
        plan.features.withUnsafeBufferPointer { features in
            event.values.withUnsafeBufferPointer { values in
                output.withUnsafeMutableBufferPointer { out in
                    for i in plan.lifetimeMembers {
                        let f = features[i]
                        let v: FieldValue = f.field >= 0 && f.field < values.count ? values[f.field] : .null
                        switch f.op {
                        case .value:
                            out[i] = v
                            if !hadEvents || t >= state.hot[f.slot].time {
                                state.hot[f.slot].time = t
                                state.lifetimeValues[f.valueSlot] = v
                            }
                        case .timeSinceLast:
                            out[i] = hadEvents && t >= previousLatest ? .double(Double(t &- previousLatest) / 1_000) : .null
                        case .approxDistinct:
                            _ = state.hot[f.slot].add(f.op, v, time: t)
                            if let hash = v.stableHash, state.lifetimeSketches[f.sketchSlot].insert(hash: hash).changed {
                                state.hot[f.slot].index = -1
                            }
                            if state.hot[f.slot].index < 0 {
                                state.hot[f.slot].index = HyperLogLog.rounded(state.lifetimeSketches[f.sketchSlot].estimate())
                            }
                            out[i] = .int(state.hot[f.slot].index)
                        default:
                            if state.hot[f.slot].add(f.op, v, time: t) { state.lifetimeValues[f.valueSlot] = v }
                            out[i] = state.hot[f.slot].output(f.op, last: f.op == .last ? state.lifetimeValues[f.valueSlot] : .null)
                        }
                    }
                    if plan.groups.isEmpty { return }
                    withUnsafeTemporaryAllocation(of: EventField.self, capacity: values.count) { fields in
                        for j in 0..<values.count { fields.initializeElement(at: j, to: EventField(values[j])) }
                        let classified = UnsafeBufferPointer(fields)
                        var hot: [FeatureTile] = []
                        swap(&hot, &state.hot)
                        defer { swap(&hot, &state.hot) }
                        hot.withUnsafeMutableBufferPointer { hotBuffer in
                            guard let hotBase = hotBuffer.baseAddress else { return }
                            plan.members.withUnsafeBufferPointer { members in
                                plan.groups.withUnsafeBufferPointer { groups in
                                    for g in 0..<groups.count {
                                        let group = groups[g]
                                        let h = hotBase + group.hotBase
                                        if group.valueCount == 0 && group.sketchCount == 0 && WindowTiles.hasNewest(h)
                                            && CompiledFeature.tileIndex(t, group.tileMillis) == WindowTiles.newestIndex(h)
                                            && WindowTiles.prefixEnd(h) == WindowTiles.newestIndex(h) {
                                            // In order into the newest tile: only the hot block is touched.
                                            let w = group.width
                                            for j in 0..<w {
                                                let i = members[group.memberStart + j]
                                                let f = features[i]
                                                let field = f.field >= 0 && f.field < classified.count ? classified[f.field] : EventField.null
                                                _ = h[WindowTiles.newest(j, w)].add(f.op, field, time: t)
                                                var total = h[WindowTiles.prefix(j)]
                                                _ = total.merge(f.op, h[WindowTiles.newest(j, w)])
                                                out[i] = total.output(f.op, last: .null)
                                            }
                                            continue
                                        }
                                        state.windows[g].apply(group, hot: h, members: members, features: features, fields: classified, event: values, time: t, output: out)
                                    }
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

    /// Writes every feature's value for a read at `asOf` (event-time milliseconds) into `output`.
    ///
    /// Sliding windows are evaluated at `asOf` with the same tile semantics as `apply` (so a window with no
    /// recent events reads count 0, mean null, …). Lifetime aggregates, `value` and `last` (lifetime) report
    /// the newest known state. `time_since_last` is the time from the latest event to `asOf` (null if
    /// `asOf` is before it). Results for `asOf` before the eviction watermark lack evicted tiles.
    package func values(of state: EntityState, asOf: Int64, output: inout [FieldValue]) {
        precondition(state.fingerprint == fingerprint, "entity state belongs to a different feature engine")
        if output.count != plan.features.count {
            output = Array(repeating: .null, count: plan.features.count)
        }
        for i in plan.features.indices {
            let f = plan.features[i]
            guard state.hasEvents else {
                output[i] = f.op == .count || f.op == .approxDistinct ? .int(0) : (f.op == .sum ? .double(0) : .null)
                continue
            }
            switch f.op {
            case .value:
                output[i] = state.lifetimeValues[f.valueSlot]
            case .timeSinceLast:
                let latest = state.latestEventTimeMillis
                output[i] = asOf >= latest ? .double(Double(asOf &- latest) / 1_000) : .null
            case .approxDistinct:
                if f.isSliding {
                    let k = CompiledFeature.tileIndex(asOf, f.tileMillis)
                    let group = plan.groups[f.group]
                    output[i] = .int(state.hot.withUnsafeBufferPointer { hot in
                        guard let base = hot.baseAddress else { return 0 }
                        return state.windows[f.group].unionEstimate(f.sketchSlot, lo: k &- f.tilesPerWindow, hi: k, group, base + group.hotBase)
                    })
                } else {
                    output[i] = .int(HyperLogLog.rounded(state.lifetimeSketches[f.sketchSlot].estimate()))
                }
            default:
                if f.isSliding {
                    let k = CompiledFeature.tileIndex(asOf, f.tileMillis)
                    let group = plan.groups[f.group]
                    output[i] = state.hot.withUnsafeBufferPointer { hot in
                        guard let base = hot.baseAddress else { return .null }
                        let (acc, last) = state.windows[f.group].fold(f.op, column: f.slot, valueSlot: f.valueSlot, lo: k &- f.tilesPerWindow, hi: k, group, base + group.hotBase)
                        return acc.output(f.op, last: last)
                    }
                } else {
                    output[i] = state.hot[f.slot].output(f.op, last: f.op == .last ? state.lifetimeValues[f.valueSlot] : .null)
                }
            }
        }
    }
}
