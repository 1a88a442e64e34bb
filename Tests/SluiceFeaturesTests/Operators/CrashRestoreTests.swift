import Testing
@testable import SluiceFeatures

/// The exactly-once property: serialize → deserialize → continue equals never serializing, bit for bit.
@Suite struct CrashRestoreTests {
    static let lateness: Int64 = 5 * Millis.minute

    enum Mode { case uninterrupted, restoreAtRandomBoundaries, neverEvict }

    /// Runs a stream in micro-batches and returns every output row (late events produce no row).
    func run(_ mode: Mode, specs: [FeatureSpec], schema: EventSchema, events: [StreamEvent], seed: UInt64) throws -> (rows: [[FieldValue]], restores: Int) {
        var engine = try FeatureEngine(specs: specs, schema: schema)
        var states: [String: EntityState] = [:]
        var tracker = LatenessTracker()
        var batchRng = SeededGenerator(seed: seed)      // same batch boundaries in every mode
        var crashRng = SeededGenerator(seed: seed ^ 0xC0FFEE)
        var rows: [[FieldValue]] = []
        var output: [FieldValue] = []
        var restores = 0
        var position = 0
        while position < events.count {
            let batchEnd = Swift.min(events.count, position + Int.random(in: 1...30, using: &batchRng))
            for item in events[position..<batchEnd] {
                let e = item.event
                if tracker.isLate(e.eventTimeMillis, allowedLatenessMillis: Self.lateness) { continue }
                tracker.observe(e.eventTimeMillis)
                engine.apply(e, to: &states[e.entityID, default: engine.makeState()], output: &output)
                rows.append(output)
            }
            position = batchEnd
            if mode != .neverEvict {
                let watermark = tracker.watermark(allowedLatenessMillis: Self.lateness)
                for key in states.keys { states[key]!.evict(olderThan: watermark) }
            }
            if mode == .restoreAtRandomBoundaries && Double.random(in: 0..<1, using: &crashRng) < 0.3 {
                // "Crash": persist every state, throw the process state away, restore with a new engine.
                var persisted: [(String, [UInt8])] = []
                for key in states.keys.sorted() {
                    var bytes: [UInt8] = []
                    states[key]!.serialize(into: &bytes)
                    persisted.append((key, bytes))
                }
                states = [:]
                engine = try FeatureEngine(specs: specs, schema: schema)
                tracker = LatenessTracker(maxEventTimeMillis: tracker.maxEventTimeMillis)
                for (key, bytes) in persisted {
                    let restored = try EntityState(deserializing: bytes[...], engine: engine)
                    var again: [UInt8] = []
                    restored.serialize(into: &again)
                    #expect(again == bytes, "re-serializing a restored state must give the same bytes")
                    states[key] = restored
                }
                restores += 1
            }
        }
        return (rows, restores)
    }

    func assertIdentical(_ a: [[FieldValue]], _ b: [[FieldValue]], specs: [FeatureSpec]) throws {
        try #require(a.count == b.count)
        for (r, (x, y)) in zip(a, b).enumerated() {
            for i in x.indices where !bitIdentical(x[i], y[i]) {
                try #require(Bool(false), "row \(r) feature \(specs[i].name): \(x[i]) vs \(y[i])")
            }
        }
    }

    @Test(arguments: [UInt64(31), 32, 33, 34])
    func restoreAndContinueIsBitIdenticalToUninterruptedRun(seed: UInt64) throws {
        var generator = StreamGenerator(
            rng: SeededGenerator(seed: seed), entities: 5, outOfOrderRate: 0.2,
            maxBackstepMillis: 8 * Millis.minute, dyadic: false, distinctMerchants: seed % 2 == 0 ? 5_000 : 40
        )
        let events = generator.make(count: 800)
        let specs = WideFeatures.specs
        let plain = try run(.uninterrupted, specs: specs, schema: WideFeatures.schema, events: events, seed: seed)
        let restored = try run(.restoreAtRandomBoundaries, specs: specs, schema: WideFeatures.schema, events: events, seed: seed)
        let unevicted = try run(.neverEvict, specs: specs, schema: WideFeatures.schema, events: events, seed: seed)
        #expect(restored.restores > 5)
        #expect(plain.rows.count > 500)
        try assertIdentical(plain.rows, restored.rows, specs: specs)
        try assertIdentical(plain.rows, unevicted.rows, specs: specs)
    }

    @Test func restoreOfDenseSketchStateIsBitIdentical() throws {
        var generator = StreamGenerator(
            rng: SeededGenerator(seed: 77), entities: 1, outOfOrderRate: 0.1,
            maxBackstepMillis: 4 * Millis.minute, dyadic: false, distinctMerchants: 100_000
        )
        var events = generator.make(count: 2_000)
        for i in events.indices { events[i].event.eventTimeMillis = 1_700_000_000_000 + (events[i].event.eventTimeMillis - 1_700_000_000_000) / 300 }
        let specs = WideFeatures.specs
        let plain = try run(.uninterrupted, specs: specs, schema: WideFeatures.schema, events: events, seed: 77)
        let restored = try run(.restoreAtRandomBoundaries, specs: specs, schema: WideFeatures.schema, events: events, seed: 77)
        try assertIdentical(plain.rows, restored.rows, specs: specs)
    }
}

@Suite struct EntityStateSerializationTests {
    /// A state of a small feature set (every operator, sliding and lifetime) after `events` events.
    func populatedState(events: Int = 120) throws -> (FeatureEngine, EntityState) {
        let specs = WideFeatures.specs.filter { $0.name.hasSuffix("_1h_t5m") || $0.name.hasSuffix("_life") || !$0.name.contains("_") }
        let engine = try FeatureEngine(specs: specs, schema: WideFeatures.schema)
        var generator = StreamGenerator(rng: SeededGenerator(seed: 5), entities: 1, outOfOrderRate: 0.1, maxBackstepMillis: Millis.minute, dyadic: false, distinctMerchants: 500)
        var state = engine.makeState()
        var output: [FieldValue] = []
        for item in generator.make(count: events) { engine.apply(item.event, to: &state, output: &output) }
        return (engine, state)
    }

    @Test func stateWrittenForOtherFeaturesIsRefusedWithAClearError() throws {
        let (_, state) = try populatedState()
        var bytes: [UInt8] = []
        state.serialize(into: &bytes)
        var changed = WideFeatures.specs
        changed[3] = FeatureSpec(name: changed[3].name, kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: 20_000)))
        let other = try FeatureEngine(specs: changed, schema: WideFeatures.schema)
        #expect(other.fingerprint != state.fingerprint)
        let error = #expect(throws: EntityStateError.self) { try EntityState(deserializing: bytes[...], engine: other) }
        #expect(error?.reason == .featureSetMismatch)
        #expect(error?.message.contains("different feature set") == true)
    }

    @Test func unknownVersionIsRefused() throws {
        let (engine, state) = try populatedState()
        var bytes: [UInt8] = []
        state.serialize(into: &bytes)
        bytes[0] = 99
        let error = #expect(throws: EntityStateError.self) { try EntityState(deserializing: bytes[...], engine: engine) }
        #expect(error?.reason == .unsupportedVersion)
    }

    @Test func everyTruncationIsRefusedWithoutCrashing() throws {
        let (engine, state) = try populatedState()
        var bytes: [UInt8] = []
        state.serialize(into: &bytes)
        #expect(bytes.count > 100)
        for length in 0..<bytes.count {
            #expect(throws: EntityStateError.self) { try EntityState(deserializing: bytes[0..<length], engine: engine) }
        }
        #expect(throws: EntityStateError.self) { try EntityState(deserializing: (bytes + [0])[...], engine: engine) }
    }

    @Test func randomByteFlipsNeverCrash() throws {
        let (engine, state) = try populatedState()
        var bytes: [UInt8] = []
        state.serialize(into: &bytes)
        var rng = SeededGenerator(seed: 9)
        var refused = 0
        for _ in 0..<500 {
            var damaged = bytes
            let i = Int.random(in: 9..<damaged.count, using: &rng) // past version + fingerprint
            damaged[i] ^= UInt8.random(in: 1...255, using: &rng)
            do {
                _ = try EntityState(deserializing: damaged[...], engine: engine)
            } catch {
                refused += 1
            }
        }
        #expect(refused > 0)
    }

    @Test func unsafeBufferAndSliceEntryPointsAgree() throws {
        let (engine, state) = try populatedState()
        var bytes: [UInt8] = [0xAA, 0xBB] // serialize appends
        state.serialize(into: &bytes)
        #expect(bytes[0] == 0xAA && bytes[1] == 0xBB)
        let fromSlice = try EntityState(deserializing: bytes[2...], engine: engine)
        let fromBuffer = try bytes.withUnsafeBytes { raw throws(EntityStateError) in
            try EntityState(deserializing: UnsafeRawBufferPointer(rebasing: raw[2...]), engine: engine)
        }
        var a: [UInt8] = []
        var b: [UInt8] = []
        fromSlice.serialize(into: &a)
        fromBuffer.serialize(into: &b)
        #expect(a == Array(bytes[2...]))
        #expect(b == a)
        var out1: [FieldValue] = []
        var out2: [FieldValue] = []
        engine.values(of: state, asOf: state.latestEventTimeMillis, output: &out1)
        engine.values(of: fromBuffer, asOf: state.latestEventTimeMillis, output: &out2)
        #expect(zip(out1, out2).allSatisfy { bitIdentical($0, $1) })
    }

    @Test func emptyStateRoundTrips() throws {
        let engine = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
        var bytes: [UInt8] = []
        engine.makeState().serialize(into: &bytes)
        let restored = try EntityState(deserializing: bytes[...], engine: engine)
        #expect(restored.hasEvents == false)
        #expect(bytes.count == 10)
    }
}
