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
        let fingerprint = w.bytes.withUnsafeBytes { XXHash64.hash($0, seed: 0x51_1CE0) }
        self.specs = specs
        self.schema = schema
        self.plan = FeaturePlan(features: layout, fingerprint: fingerprint)
        self.fingerprint = fingerprint
    }

    /// A new, empty entity state for this engine.
    package func makeState() -> EntityState {
        EntityState(plan: plan)
    }

    /// Applies `event` to `state` and writes every feature's value as of the event's time into `output`.
    ///
    /// `output` is resized to `specs.count` when needed and indexed like `specs`. The caller has already
    /// rejected late events (see `LatenessTracker`); an out-of-order event updates the tile its time falls
    /// in and gets the values as of its own time computed from everything known (docs/features.md).
    /// `event.values` must be indexed like `schema.fields`; missing trailing values count as null.
    package func apply(_ event: DecodedEvent, to state: inout EntityState, output: inout [FieldValue]) {
        event.values.withUnsafeBufferPointer { apply(eventTime: event.eventTimeMillis, values: $0, to: &state, output: &output) }
    }

    /// `apply(_:to:output:)` for an event given as its time and its values (indexed like `schema.fields`).
    ///
    /// For callers that keep their decoded events in a buffer: passing a `DecodedEvent` from one copies it
    /// (retaining its strings and values for the call), where `event.values.withUnsafeBufferPointer` borrows.
    package func apply(eventTime t: Int64, values: UnsafeBufferPointer<FieldValue>, to state: inout EntityState, output: inout [FieldValue]) {
        precondition(state.plan === plan || state.fingerprint == fingerprint, "entity state belongs to a different feature engine")
        let plan = self.plan
        // Ask for the state's arrays (headers, hot words, kept values) all at once: the steps below touch
        // them one after the other, and each would otherwise wait for its own cache miss.
        withUnsafeMutablePointer(to: &state) { EntityState.prefetchLines(ofStateAt: UnsafeRawPointer($0), plan: plan, stage: 0) }
        if output.count != plan.features.count {
            output = Array(repeating: .null, count: plan.features.count)
        }
        let hadEvents = state.hasEvents
        let previousLatest = state.latestEventTimeMillis
        plan.features.withUnsafeBufferPointer { features in
            output.withUnsafeMutableBufferPointer { out in
                if !plan.lifetimeMembers.isEmpty {
                    Self.applyLifetime(plan, features, values, t: t, hadEvents: hadEvents, previousLatest: previousLatest, to: &state, output: out)
                }
                if plan.groups.isEmpty { return }
                // The headers have arrived by now: ask for the newest cold records and the sketch
                // pool's tail (newest runs, unions), which the window steps below read last.
                withUnsafeMutablePointer(to: &state) { EntityState.prefetchLines(ofStateAt: UnsafeRawPointer($0), plan: plan, stage: 1) }
                // The fields the features read, classified, and one null slot after them (`MemberStep.field`).
                let fieldCount = plan.classifiedFieldCount
                withUnsafeTemporaryAllocation(of: EventField.self, capacity: fieldCount + 1) { fields in
                    for j in 0..<fieldCount { fields.initializeElement(at: j, to: j < values.count ? EventField(values[j]) : .null) }
                    fields.initializeElement(at: fieldCount, to: .null)
                    let classified = UnsafeBufferPointer(fields)
                    plan.steps.withUnsafeBufferPointer { steps in
                        plan.groups.withUnsafeBufferPointer { groups in
                            let (slow, distinct) = state.applyInNewestTiles(time: t, groups: groups, steps: steps, fields: classified, output: out)
                            var pending = distinct
                            while pending != 0 {
                                let g = pending.trailingZeroBitCount
                                pending &= pending &- 1
                                state.applyDistinctInNewest(g, features: features, steps: steps, event: values, output: out)
                            }
                            for g in groups.indices where g >= 64 || slow & (1 << UInt64(g)) != 0 {
                                state.applyWindow(g, time: t, features: features, steps: steps, fields: classified, event: values, output: out)
                            }
                        }
                    }
                }
            }
        }
        state.hasEvents = true
        if !hadEvents || t > previousLatest { state.latestEventTimeMillis = t }
    }

    /// The lifetime features (`value`, `time_since_last`, lifetime aggregates) of one event.
    @inline(__always)
    private static func applyLifetime(
        _ plan: FeaturePlan, _ features: UnsafeBufferPointer<CompiledFeature>, _ values: UnsafeBufferPointer<FieldValue>,
        t: Int64, hadEvents: Bool, previousLatest: Int64, to state: inout EntityState, output out: UnsafeMutableBufferPointer<FieldValue>
    ) {
        state.words.withUnsafeMutableBufferPointer { wordBuffer in
            state.values.withUnsafeMutableBufferPointer { kept in
                do {
                    let words = wordBuffer.baseAddress!
                    let releaseFree = plan.releaseFree
                    // Field values are copied slot to slot (`ReleaseFreeStore.copy`): no retain or release
                    // for numbers and small strings.
                    withUnsafePointer(to: FieldValue.null) { null in
                        for i in plan.lifetimeMembers {
                            let f = features[i]
                            let v = f.field >= 0 && f.field < values.count ? values.baseAddress! + f.field : null
                            switch f.op {
                            case .value:
                                if !hadEvents || t >= Int64(bitPattern: words[f.word]) {
                                    words[f.word] = UInt64(bitPattern: t)
                                    ReleaseFreeStore.copy(v, to: kept.baseAddress! + f.valueSlot, supported: releaseFree)
                                }
                                ReleaseFreeStore.copy(v, to: out.baseAddress! + i, supported: releaseFree)
                            case .last:
                                var acc = FeatureTile(f.op, at: words + f.word)
                                if acc.add(f.op, v.pointee, time: t) {
                                    ReleaseFreeStore.copy(v, to: kept.baseAddress! + f.valueSlot, supported: releaseFree)
                                }
                                acc.store(f.op, at: words + f.word)
                                ReleaseFreeStore.copy(acc.n == 0 ? null : UnsafePointer(kept.baseAddress! + f.valueSlot), to: out.baseAddress! + i, supported: releaseFree)
                            case .timeSinceLast:
                                out.put(i, hadEvents && t >= previousLatest ? .double(Double(t &- previousLatest) / 1_000) : .null)
                            case .approxDistinct:
                                // Below, outside the word array's scope (the sketch is another array).
                                continue
                            default:
                                var acc = FeatureTile(f.op, at: words + f.word)
                                _ = acc.add(f.op, v.pointee, time: t)
                                acc.store(f.op, at: words + f.word)
                                out.put(i, acc.output(f.op, last: .null))
                            }
                        }
                    }
                }
            }
        }
        if plan.lifetimeSketchCount == 0 { return }
        for i in plan.lifetimeMembers where features[i].op == .approxDistinct {
            let f = features[i]
            let v: FieldValue = f.field >= 0 && f.field < values.count ? values[f.field] : .null
            if case .null = v {} else { state.words[f.word] &+= 1 }
            if let hash = v.stableHash, state.lifetimeSketches[f.sketchSlot].insert(hash: hash).changed {
                state.words[f.word + 1] = UInt64(bitPattern: -1)
            }
            var estimate = Int64(bitPattern: state.words[f.word + 1])
            if estimate < 0 {
                estimate = HyperLogLog.rounded(state.lifetimeSketches[f.sketchSlot].estimate())
                state.words[f.word + 1] = UInt64(bitPattern: estimate)
            }
            out.put(i, .int(estimate))
        }
    }

    /// Writes every feature's value for a read at `asOf` (event-time milliseconds) into `output`.
    ///
    /// Sliding windows are evaluated at `asOf` with the same tile semantics as `apply` (so a window with no
    /// recent events reads count 0, mean null, …). Lifetime aggregates, `value` and `last` (lifetime) report
    /// the newest known state. `time_since_last` is the time from the latest event to `asOf` (null if
    /// `asOf` is before it). Results for `asOf` before the eviction watermark lack evicted tiles.
    package func values(of state: EntityState, asOf: Int64, output: inout [FieldValue]) {
        precondition(state.plan === plan || state.fingerprint == fingerprint, "entity state belongs to a different feature engine")
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
                output[i] = state.values[f.valueSlot]
            case .timeSinceLast:
                let latest = state.latestEventTimeMillis
                output[i] = asOf >= latest ? .double(Double(asOf &- latest) / 1_000) : .null
            default:
                if f.isSliding {
                    let k = CompiledFeature.tileIndex(asOf, f.tileMillis)
                    output[i] = state.windowValue(f, lo: k &- f.tilesPerWindow, hi: k)
                } else if f.op == .approxDistinct {
                    output[i] = .int(HyperLogLog.rounded(state.lifetimeSketches[f.sketchSlot].estimate()))
                } else {
                    let acc = state.words.withUnsafeBufferPointer { FeatureTile(f.op, at: $0.baseAddress! + f.word) }
                    output[i] = acc.output(f.op, last: f.op == .last ? state.values[f.valueSlot] : .null)
                }
            }
        }
    }
}
