import Testing
@testable import SluiceFeatures

@Suite struct EntityStateTableTests {
    let engine: FeatureEngine

    init() throws {
        engine = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
    }

    func event(_ entity: String, at t: Int64) -> DecodedEvent {
        var e = DecodedEvent()
        e.entityID = entity
        e.eventTimeMillis = t
        e.values = [.double(2), .string("m1"), .string("DE")]
        return e
    }

    @Test func mutatingThroughTheSubscriptLeavesCopiesOfTheTableUnchanged() throws {
        var table = EntityStateTable(engine: engine, seed: 7)
        var out: [FieldValue] = []
        let (i, _) = table.findOrInsert("a")
        engine.apply(event("a", at: 1_700_000_000_000), to: &table[i], output: &out)
        let copy = table
        engine.apply(event("a", at: 1_700_000_001_000), to: &table[i], output: &out)
        #expect(out[1] == .int(2))
        var fromCopy: [FieldValue] = []
        var fromTable: [FieldValue] = []
        engine.values(of: copy[i], asOf: 1_700_000_001_000, output: &fromCopy)
        engine.values(of: table[i], asOf: 1_700_000_001_000, output: &fromTable)
        #expect(fromCopy[1] == .int(1))
        #expect(fromTable[1] == .int(2))
    }

    /// New states share the plan's empty arrays until their first write (`FeaturePlan.emptyWords` …): writes to one
    /// entity must reach neither another new entity nor the states made after it.
    @Test func newStatesShareNothingOnceWritten() throws {
        // Element-wise copies: an array copy would share the very buffer under test.
        let emptyWords = engine.makeState().words.map { $0 }
        let emptyValues = engine.makeState().values.map { $0 }
        var table = EntityStateTable(engine: engine, seed: 3)
        var out: [FieldValue] = []
        let (a, _) = table.findOrInsert("a")
        let (b, _) = table.findOrInsert("b")
        for k in 0..<50 {
            var e = event("a", at: 1_700_000_000_000 + Int64(k) * 60_000)
            e.values = [.double(Double(k)), .string("m\(k)"), .string("DE")]
            engine.apply(e, to: &table[a], output: &out)
        }
        #expect(table[a].hasEvents)
        #expect(table[b].hasEvents == false)
        #expect(table[b].words == emptyWords)
        #expect(table[b].values == emptyValues)
        #expect(engine.makeState().words == emptyWords)
        #expect(engine.makeState().values == emptyValues)
        // b's first event gives what it gives on a state of a fresh engine, feature for feature and byte for byte.
        let fresh = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
        var reference = fresh.makeState()
        var expected: [FieldValue] = []
        fresh.apply(event("b", at: 1_700_000_000_000), to: &reference, output: &expected)
        engine.apply(event("b", at: 1_700_000_000_000), to: &table[b], output: &out)
        #expect(out == expected)
        var bBytes: [UInt8] = []
        var referenceBytes: [UInt8] = []
        table[b].serialize(into: &bBytes)
        reference.serialize(into: &referenceBytes)
        #expect(bBytes == referenceBytes)
        let names = ExampleFeatures.specs.map(\.name)
        #expect(out[names.firstIndex(of: "txn_count_1h")!] == .int(1))
        var aValues: [FieldValue] = []
        engine.values(of: table[a], asOf: 1_700_000_000_000 + 49 * 60_000, output: &aValues)
        #expect(aValues[names.firstIndex(of: "txn_count_1h")!] == .int(50))
    }

    @Test func behavesLikeADictionaryOfStatesThroughGrowthAndRemoval() throws {
        var table = EntityStateTable(engine: engine, seed: 7)
        var reference: [String: EntityState] = [:]
        var rng = SeededGenerator(seed: 3)
        var out1: [FieldValue] = []
        var out2: [FieldValue] = []
        // Short and long (heap-allocated) ids, many growths from the initial 16 slots.
        let ids = (0..<1_500).map { i in i % 3 == 0 ? "entity-with-a-long-identifier-\(i)" : "e\(i)" }
        for n in 0..<6_000 {
            let id = ids[Int.random(in: 0..<ids.count, using: &rng)]
            let e = event(id, at: 1_700_000_000_000 + Int64(n) * 1_000)
            let (i, inserted) = table.findOrInsert(id)
            #expect(inserted == (reference[id] == nil))
            engine.apply(e, to: &table[i], output: &out1)
            engine.apply(e, to: &reference[id, default: engine.makeState()], output: &out2)
            try #require(out1 == out2)
            #expect(table.entityID(at: i) == id)
        }
        #expect(table.count == reference.count)
        for (id, state) in reference {
            let i = try #require(table.index(of: id))
            var a: [UInt8] = []
            var b: [UInt8] = []
            table[i].serialize(into: &a)
            state.serialize(into: &b)
            #expect(a == b)
        }
        #expect(table.index(of: "absent") == nil)
        #expect(table["absent"] == nil)

        // Remove every other entity; the survivors keep their order and stay findable.
        let before = table.indices.map { table.entityID(at: $0) }
        let kept = table.removeAll { $0 % 2 == 0 }
        #expect(kept == Array(stride(from: 1, to: before.count, by: 2)))
        #expect(table.count == kept.count)
        for (newIndex, oldIndex) in kept.enumerated() {
            #expect(table.entityID(at: newIndex) == before[oldIndex])
            #expect(table.index(of: before[oldIndex]) == newIndex)
        }
        for oldIndex in stride(from: 0, to: before.count, by: 2) {
            #expect(table.index(of: before[oldIndex]) == nil)
        }
    }

    @Test func collidingSlotsAreToldApartByTheFullId() {
        // A 16-slot table with 7 entries: probe sequences run into each other constantly.
        var table = EntityStateTable(engine: engine, seed: 1)
        let ids = ["a", "b", "c", "aa", "ab", "ba", "é"]
        for id in ids { _ = table.findOrInsert(id) }
        for (i, id) in ids.enumerated() { #expect(table.index(of: id) == i) }
        #expect(table.findOrInsert("b").inserted == false)
    }

    @Test func idsAreComparedByTheirBytesLikeTheStoreKeys() {
        var table = EntityStateTable(engine: engine, seed: 5)
        let composed = "\u{E9}"        // é, one scalar
        let decomposed = "e\u{301}"    // e + combining acute: `==` to composed, other bytes
        #expect(composed == decomposed)
        #expect(table.findOrInsert(composed).inserted)
        #expect(table.findOrInsert(decomposed).inserted, "different bytes are different entities")
        #expect(table.count == 2)
        #expect(table.index(of: composed) == 0)
        #expect(table.index(of: decomposed) == 1)
    }

    @Test func setReplacesAStateAndRemoveAllEmpties() throws {
        var table = EntityStateTable(engine: engine, minimumCapacity: 4, seed: 2)
        var state = engine.makeState()
        var output: [FieldValue] = []
        engine.apply(event("x", at: 1_700_000_000_000), to: &state, output: &output)
        let i = table.set(state, for: "x")
        #expect(table[i].hasEvents)
        #expect(table.set(engine.makeState(), for: "x") == i)
        #expect(table[i].hasEvents == false)
        table.removeAll()
        #expect(table.isEmpty)
        #expect(table.index(of: "x") == nil)
        #expect(table.findOrInsert("x") == (0, true))
    }

    @Test func batchLookupMatchesOneByOneAndPrefetchIsHarmless() throws {
        var one = EntityStateTable(engine: engine, seed: 11)
        var batch = EntityStateTable(engine: engine, seed: 11)
        var rng = SeededGenerator(seed: 12)
        var output: [FieldValue] = []
        var indices = [Int](repeating: -1, count: 40)
        for round in 0..<60 {
            // Repeats inside a batch, new and known ids, short and heap-allocated ones.
            let ids = (0..<Int.random(in: 0...40, using: &rng)).map { _ -> String in
                let n = Int.random(in: 0..<120, using: &rng)
                return n % 4 == 0 ? "a-long-entity-identifier-number-\(n)" : "e\(n)"
            }
            let inserted = indices.withUnsafeMutableBufferPointer { ix in
                batch.findOrInsert(ids.count, id: { ids[$0] }, into: ix)
            }
            var expectedInserted = 0
            for (k, id) in ids.enumerated() {
                let (i, new) = one.findOrInsert(id)
                if new { expectedInserted += 1 }
                #expect(indices[k] == i, "round \(round) id \(id)")
            }
            #expect(inserted == expectedInserted)
            for (k, id) in ids.enumerated() {
                batch.prefetchState(at: indices[k])
                batch.prefetchState(at: indices[k], stage: 1)
                engine.apply(event(id, at: 1_700_000_000_000 + Int64(round) * 60_000), to: &batch[indices[k]], output: &output)
                batch.prefetchState(at: indices[k], stage: 1)
            }
        }
        #expect(batch.count == one.count)
        let empty = indices.withUnsafeMutableBufferPointer { batch.findOrInsert(0, id: { _ in "" }, into: $0) }
        #expect(empty == 0)
    }

    /// `find` (the worker's lookup of a polled batch): each id's index as `index(of:)` gives it, -1 for a missing one,
    /// and nothing is inserted — a missing entity must be restored from the store before it gets a state.
    @Test func batchFindMatchesIndexOfAndInsertsNothing() throws {
        var table = EntityStateTable(engine: engine, seed: 5)
        var rng = SeededGenerator(seed: 6)
        var indices = [Int](repeating: 7, count: 50)
        for round in 0..<40 {
            let ids = (0..<Int.random(in: 0...50, using: &rng)).map { _ -> String in
                let n = Int.random(in: 0..<150, using: &rng)
                return n % 5 == 0 ? "a-long-entity-identifier-number-\(n)" : "e\(n)"
            }
            let before = table.count
            let missing = indices.withUnsafeMutableBufferPointer { ix in table.find(ids.count, id: { ids[$0] }, into: ix) }
            #expect(table.count == before, "find inserts nothing")
            for (k, id) in ids.enumerated() { #expect(indices[k] == (table.index(of: id) ?? -1), "round \(round) id \(id)") }
            #expect(missing == ids.indices.filter { indices[$0] < 0 }.count)
            // Then the missing ones are added, as the worker adds them when it applies their events.
            for id in ids where table.index(of: id) == nil { _ = table.findOrInsert(id) }
        }
        #expect(table.count > 100, "most ids were seen")
        let none = indices.withUnsafeMutableBufferPointer { table.find(0, id: { _ in "" }, into: $0) }
        #expect(none == 0)
    }
}
