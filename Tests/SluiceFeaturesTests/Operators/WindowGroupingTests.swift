import Testing
@testable import SluiceFeatures

/// Features on the same window share one tile sequence (and one hot block) per entity; sharing must not
/// change any value: every feature computed alone gives bit-identical outputs, reads and restored bytes.
@Suite struct WindowGroupingTests {
    @Test func featuresSharingAWindowMatchTheSameFeaturesComputedAlone() throws {
        var generator = StreamGenerator(
            rng: SeededGenerator(seed: 404), entities: 3, outOfOrderRate: 0.2,
            maxBackstepMillis: 4 * Millis.minute, dyadic: false, distinctMerchants: 300
        )
        let events = generator.make(count: 400)
        let specs = WideFeatures.specs
        let grouped = try FeatureEngine(specs: specs, schema: WideFeatures.schema)
        #expect(grouped.plan.groups.count == 7, "seven distinct (window, tile) pairs")
        let alone = try specs.map { try FeatureEngine(specs: [$0], schema: WideFeatures.schema) }
        var groupedStates: [String: EntityState] = [:]
        var aloneStates: [[String: EntityState]] = Array(repeating: [:], count: specs.count)
        var tracker = LatenessTracker()
        var output: [FieldValue] = []
        var single: [FieldValue] = []
        var compared = 0
        for (n, item) in events.enumerated() {
            let e = item.event
            if tracker.isLate(e.eventTimeMillis, allowedLatenessMillis: 5 * Millis.minute) { continue }
            tracker.observe(e.eventTimeMillis)
            grouped.apply(e, to: &groupedStates[e.entityID, default: grouped.makeState()], output: &output)
            for i in specs.indices {
                alone[i].apply(e, to: &aloneStates[i][e.entityID, default: alone[i].makeState()], output: &single)
                try #require(bitIdentical(output[i], single[0]), "event \(n) feature \(specs[i].name): grouped \(output[i]) alone \(single[0])")
                compared += 1
            }
            if n % 25 == 0 {
                let watermark = tracker.watermark(allowedLatenessMillis: 5 * Millis.minute)
                for key in groupedStates.keys { groupedStates[key]!.evict(olderThan: watermark) }
                for i in specs.indices {
                    for key in aloneStates[i].keys { aloneStates[i][key]!.evict(olderThan: watermark) }
                }
                let asOf = e.eventTimeMillis + Millis.minute
                grouped.values(of: groupedStates[e.entityID]!, asOf: asOf, output: &output)
                for i in specs.indices {
                    alone[i].values(of: aloneStates[i][e.entityID]!, asOf: asOf, output: &single)
                    try #require(bitIdentical(output[i], single[0]), "read of feature \(specs[i].name): grouped \(output[i]) alone \(single[0])")
                }
            }
        }
        #expect(compared > 300 * specs.count)
    }

    @Test func restoredStateKeepsTheNewestTileInTheHotBlock() throws {
        let engine = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
        var state = engine.makeState()
        var output: [FieldValue] = []
        var e = DecodedEvent()
        e.values = [.double(2), .string("m1"), .string("DE")]
        for t: Int64 in [1_700_000_000_000, 1_700_000_030_000, 1_700_000_090_000, 1_700_003_700_000] {
            e.eventTimeMillis = t
            engine.apply(e, to: &state, output: &output)
        }
        var bytes: [UInt8] = []
        state.serialize(into: &bytes)
        #expect(bytes[0] == EntityState.formatVersion)
        var restored = try EntityState(deserializing: bytes[...], engine: engine)
        #expect(restored.tileCount == state.tileCount)
        // The next in-order event must see the same windows in both.
        e.eventTimeMillis = 1_700_003_710_000
        var continued: [FieldValue] = []
        engine.apply(e, to: &state, output: &output)
        engine.apply(e, to: &restored, output: &continued)
        #expect(zip(output, continued).allSatisfy { bitIdentical($0, $1) })
        #expect(output[1] == .int(2), "txn_count_1h: the events at +3 700 s and +3 710 s")
    }
}
