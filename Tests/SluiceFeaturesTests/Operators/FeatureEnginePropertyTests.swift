import Testing
@testable import SluiceFeatures

/// Compares a numeric feature within `relative` of the reference (plus a tiny absolute floor for values
/// that are zero up to rounding, e.g. a variance of identical values computed two ways).
func closeEnough(_ engine: FieldValue, _ reference: FieldValue, relative: Double = 1e-9) -> Bool {
    switch (engine, reference) {
    case (.double(let a), .double(let b)):
        if a == b { return true }
        return abs(a - b) <= relative * Swift.max(abs(a), abs(b)) + 1e-12
    default:
        return engine == reference
    }
}

/// Which features must match exactly and which within floating-point tolerance.
func needsTolerance(_ spec: FeatureSpec) -> Bool {
    if case .aggregate(let kind, _, _) = spec.kind {
        return [.sum, .mean, .variance, .stddev].contains(kind)
    }
    return false
}

@Suite struct FeatureEnginePropertyTests {
    static let lateness: Int64 = 5 * Millis.minute

    struct RunStats {
        var applied = 0
        var outOfOrder = 0
        var late = 0
        var reads = 0
        var evictedTiles = 0
        var latestReads = 0
    }

    /// Drives the engine and the brute-force reference over one random stream in micro-batches, evicting
    /// by watermark after every batch, and checks every output and some reads.
    func compareWithReference(specs: [FeatureSpec], schema: EventSchema, events: [StreamEvent], seed: UInt64) throws -> RunStats {
        let engine = try FeatureEngine(specs: specs, schema: schema)
        var reference = ReferenceModel(specs: specs, schema: schema)
        var states: [String: EntityState] = [:]
        var tracker = LatenessTracker()
        var rng = SeededGenerator(seed: seed ^ 0xABCD)
        var output: [FieldValue] = []
        var stats = RunStats()
        var position = 0
        while position < events.count {
            let batchEnd = Swift.min(events.count, position + Int.random(in: 1...40, using: &rng))
            for item in events[position..<batchEnd] {
                let e = item.event
                if tracker.isLate(e.eventTimeMillis, allowedLatenessMillis: Self.lateness) {
                    stats.late += 1
                    continue
                }
                if let latest = states[e.entityID]?.latestEventTimeMillis, e.eventTimeMillis < latest { stats.outOfOrder += 1 }
                tracker.observe(e.eventTimeMillis)
                engine.apply(e, to: &states[e.entityID, default: engine.makeState()], output: &output)
                let expected = reference.apply(e)
                stats.applied += 1
                for i in specs.indices {
                    let ok = needsTolerance(specs[i]) ? closeEnough(output[i], expected[i]) : output[i] == expected[i]
                    try #require(ok, "event #\(stats.applied) t=\(e.eventTimeMillis) \(e.entityID) feature \(specs[i].name): engine \(output[i]) reference \(expected[i])")
                }
            }
            position = batchEnd
            let watermark = tracker.watermark(allowedLatenessMillis: Self.lateness)
            for key in states.keys.sorted() {
                let before = states[key]!.tileCount
                states[key]!.evict(olderThan: watermark)
                stats.evictedTiles += before - states[key]!.tileCount
            }
            // Reads compare with the reference's read of the same entity at the same time.
            func requireRead(_ key: String, asOf: Int64, _ what: String) throws {
                engine.values(of: states[key]!, asOf: asOf, output: &output)
                let expected = reference.read(entity: key, asOf: asOf)
                for i in specs.indices {
                    let ok = needsTolerance(specs[i]) ? closeEnough(output[i], expected[i]) : output[i] == expected[i]
                    try #require(ok, "read of \(key) \(what) \(asOf), feature \(specs[i].name): engine \(output[i]) reference \(expected[i])")
                }
            }
            // A read as of each entity's latest event: what the worker writes as the online features, where a
            // sliding approx_distinct reads the union `apply` keeps instead of unioning the tiles afresh.
            // (Only entities whose latest event is not older than the watermark: reads before it lack evicted tiles.)
            for key in states.keys.sorted() where states[key]!.hasEvents && states[key]!.latestEventTimeMillis >= watermark {
                try requireRead(key, asOf: states[key]!.latestEventTimeMillis, "as of its latest event")
                stats.latestReads += 1
            }
            // A read at or after the watermark for one entity.
            if let key = states.keys.sorted().randomElement(using: &rng), watermark != .min {
                try requireRead(key, asOf: watermark + Int64.random(in: 0...(2 * Self.lateness + Millis.day), using: &rng), "as of")
                stats.reads += 1
            }
        }
        return stats
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6])
    func everyOperatorAndWindowMatchesBruteForceReference(seed: UInt64) throws {
        var generator = StreamGenerator(
            rng: SeededGenerator(seed: seed), entities: 3, outOfOrderRate: 0.2,
            maxBackstepMillis: 8 * Millis.minute, dyadic: seed % 2 == 0, distinctMerchants: seed % 3 == 0 ? 2_000 : 30
        )
        let events = generator.make(count: 500)
        let stats = try compareWithReference(specs: WideFeatures.specs, schema: WideFeatures.schema, events: events, seed: seed)
        #expect(stats.applied > 300)
        #expect(stats.outOfOrder > 10, "the stream must exercise out-of-order events")
        #expect(stats.late > 0, "the stream must exercise late events")
        #expect(stats.reads > 5)
        #expect(stats.evictedTiles > 0, "eviction must have dropped tiles")
        #expect(stats.latestReads > 20, "reads as of each entity's latest event")
    }

    @Test(arguments: [UInt64(11), 12])
    func heavyEntityWithDenseSketchesMatchesReference(seed: UInt64) throws {
        // One entity, many distinct merchants: tiles go dense and the window union cache is used.
        var generator = StreamGenerator(
            rng: SeededGenerator(seed: seed), entities: 1, outOfOrderRate: 0.1,
            maxBackstepMillis: 6 * Millis.minute, dyadic: false, distinctMerchants: 100_000
        )
        var events = generator.make(count: 1_500)
        // Compress time so that hundreds of events share tiles of the 24h and 7d windows.
        for i in events.indices { events[i].event.eventTimeMillis = 1_700_000_000_000 + (events[i].event.eventTimeMillis - 1_700_000_000_000) / 200 }
        let specs = WideFeatures.specs.filter { $0.name.hasPrefix("distinct_merchant") || $0.name.hasPrefix("count_") || $0.name.hasPrefix("max_amount") }
        let stats = try compareWithReference(specs: specs, schema: WideFeatures.schema, events: events, seed: seed)
        #expect(stats.applied > 1_000)
        #expect(stats.outOfOrder > 10)
    }

    @Test(arguments: [UInt64(21), 22])
    func exampleConfigurationMatchesReference(seed: UInt64) throws {
        var generator = StreamGenerator(
            rng: SeededGenerator(seed: seed), entities: 4, outOfOrderRate: 0.15,
            maxBackstepMillis: 7 * Millis.minute, dyadic: false, distinctMerchants: 50
        )
        let countries = ["DE", "FR", "US", "JP"]
        let events = generator.make(count: 600).map { item -> StreamEvent in
            var e = item.event
            let country: FieldValue = e.values[1] == .null ? .null : .string(countries[Int(e.eventTimeMillis % 4)])
            e.values = [e.values[0], e.values[2], country]
            return StreamEvent(entity: item.entity, event: e)
        }
        let stats = try compareWithReference(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema, events: events, seed: seed)
        #expect(stats.applied > 400)
    }

    @Test func valueAtTileBoundaryIsTheExactWindow() throws {
        // Window 1h with 1m tiles, evaluated exactly at a tile boundary T: events in (T − 1h, T] count.
        let spec = FeatureSpec(name: "c", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: Millis.hour)))
        let engine = try FeatureEngine(specs: [spec], schema: ExampleFeatures.schema)
        var state = engine.makeState()
        var output: [FieldValue] = []
        let boundary: Int64 = 1_700_000_040_000 // a multiple of 60 000
        #expect(boundary % Millis.minute == 0)
        var e = DecodedEvent()
        e.values = [.double(1), .string("m"), .string("DE")]
        for t in [boundary - Millis.hour, boundary - Millis.hour + 1, boundary - 1] {
            e.eventTimeMillis = t
            engine.apply(e, to: &state, output: &output)
        }
        engine.values(of: state, asOf: boundary, output: &output)
        // Brute force over the exact half-open window (T − 1h, T].
        let times = [boundary - Millis.hour, boundary - Millis.hour + 1, boundary - 1]
        let exact = times.filter { $0 > boundary - Millis.hour && $0 <= boundary }.count
        #expect(output[0] == .int(Int64(exact)))
    }
}
