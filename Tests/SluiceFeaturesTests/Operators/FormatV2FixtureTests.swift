import Foundation
import Testing
@testable import SluiceFeatures

/// States and outputs recorded with the version-2 engine (the per-`FeatureTile` layout, before the
/// compact word layout), checked against the current engine: the same streams must give the same
/// serialized bytes, the same reads and the same outputs bit for bit, and the recorded version-2
/// bytes must restore to states that continue identically. The fixture was written by running this
/// suite with SLUICE_WRITE_V2_FIXTURE=1 on commit 01a5f4c.
@Suite struct FormatV2FixtureTests {
    struct Fixture: Codable {
        struct Entity: Codable {
            var entity: String
            /// The serialized state at the cut, hex.
            var state: String
            /// `values(of:asOf:)` at `asOf`, encoded with `encode(_:)`.
            var read: [String]
        }
        struct Stream: Codable {
            var name: String
            var formatVersion: Int
            var cut: Int
            var asOf: Int64
            var entities: [Entity]
            /// XXH64 of every output row before the cut, encoded.
            var digestBeforeCut: String
            /// XXH64 of each output row after the cut (encoded), so a mismatch names the first bad event.
            var rowsAfterCut: [String]
        }
        var streams: [Stream]
    }

    /// One recorded scenario: a feature set and a seeded stream.
    struct Scenario {
        var name: String
        var specs: [FeatureSpec]
        var schema: EventSchema
        var events: [StreamEvent]
        var cut: Int
    }

    static let lateness: Int64 = 5 * Millis.minute

    static var scenarios: [Scenario] {
        var result: [Scenario] = []
        for seed: UInt64 in [31, 32] {
            var generator = StreamGenerator(
                rng: SeededGenerator(seed: seed), entities: 5, outOfOrderRate: 0.2,
                maxBackstepMillis: 8 * Millis.minute, dyadic: false, distinctMerchants: seed % 2 == 0 ? 5_000 : 40
            )
            result.append(Scenario(name: "wide-\(seed)", specs: WideFeatures.specs, schema: WideFeatures.schema, events: generator.make(count: 800), cut: 600))
        }
        // One heavy entity with thousands of merchants: dense tile sketches and window unions.
        var dense = StreamGenerator(
            rng: SeededGenerator(seed: 77), entities: 2, outOfOrderRate: 0.1,
            maxBackstepMillis: 4 * Millis.minute, dyadic: false, distinctMerchants: 100_000
        )
        var events = dense.make(count: 2_500)
        for i in events.indices { events[i].event.eventTimeMillis = 1_700_000_000_000 + (events[i].event.eventTimeMillis - 1_700_000_000_000) / 300 }
        result.append(Scenario(name: "dense-77", specs: WideFeatures.specs, schema: WideFeatures.schema, events: events, cut: 2_000))
        var example = StreamGenerator(
            rng: SeededGenerator(seed: 21), entities: 4, outOfOrderRate: 0.15,
            maxBackstepMillis: 7 * Millis.minute, dyadic: false, distinctMerchants: 50
        )
        let countries = ["DE", "FR", "US", "JP"]
        let exampleEvents = example.make(count: 700).map { item -> StreamEvent in
            var e = item.event
            let country: FieldValue = e.values[1] == .null ? .null : .string(countries[Int(e.eventTimeMillis % 4)])
            e.values = [e.values[0], e.values[2], country]
            return StreamEvent(entity: item.entity, event: e)
        }
        result.append(Scenario(name: "example-21", specs: ExampleFeatures.specs, schema: ExampleFeatures.schema, events: exampleEvents, cut: 500))
        return result
    }

    static func encode(_ v: FieldValue) -> String {
        switch v {
        case .null: return "n"
        case .double(let d): return "d:" + String(d.bitPattern, radix: 16)
        case .int(let i): return "i:\(i)"
        case .string(let s): return "s:" + s
        case .bool(let b): return b ? "b:1" : "b:0"
        }
    }

    /// XXH64 of an encoded row, hex.
    static func digest(_ row: [String]) -> String {
        var input: [UInt8] = []
        for v in row { input.append(contentsOf: Array(v.utf8) + [0]) }
        return String(input.withUnsafeBytes { XXHash64.hash($0) }, radix: 16)
    }

    /// The first index where the row digests differ (or the shorter length), nil when equal.
    static func firstDifference(_ a: [String], _ b: [String]) -> Int? {
        for i in 0..<Swift.min(a.count, b.count) where a[i] != b[i] { return i }
        return a.count == b.count ? nil : Swift.min(a.count, b.count)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// Runs a scenario with the current engine, evicting every 25 events, and records the cut.
    static func record(_ s: Scenario) throws -> Fixture.Stream {
        let engine = try FeatureEngine(specs: s.specs, schema: s.schema)
        var states: [String: EntityState] = [:]
        var tracker = LatenessTracker()
        var output: [FieldValue] = []
        var digestInput: [UInt8] = []
        var after: [String] = []
        var stream = Fixture.Stream(name: s.name, formatVersion: Int(EntityState.formatVersion), cut: s.cut, asOf: 0, entities: [], digestBeforeCut: "", rowsAfterCut: [])
        for (n, item) in s.events.enumerated() {
            if n == s.cut {
                let watermark = tracker.watermark(allowedLatenessMillis: lateness)
                for key in states.keys { states[key]!.evict(olderThan: watermark) }
                stream.asOf = watermark + Millis.hour
                for key in states.keys.sorted() {
                    var bytes: [UInt8] = []
                    states[key]!.serialize(into: &bytes)
                    engine.values(of: states[key]!, asOf: stream.asOf, output: &output)
                    stream.entities.append(Fixture.Entity(entity: key, state: hex(bytes), read: output.map(encode)))
                }
                stream.digestBeforeCut = String(digestInput.withUnsafeBytes { XXHash64.hash($0) }, radix: 16)
            }
            let e = item.event
            if tracker.isLate(e.eventTimeMillis, allowedLatenessMillis: lateness) { continue }
            tracker.observe(e.eventTimeMillis)
            engine.apply(e, to: &states[e.entityID, default: engine.makeState()], output: &output)
            let row = output.map(encode)
            if n < s.cut {
                for v in row { digestInput.append(contentsOf: Array(v.utf8) + [0]) }
            } else {
                after.append(digest(row))
            }
            if n % 25 == 24 && n + 1 != s.cut {
                let watermark = tracker.watermark(allowedLatenessMillis: lateness)
                for key in states.keys { states[key]!.evict(olderThan: watermark) }
            }
        }
        stream.rowsAfterCut = after
        return stream
    }

    static var fixtureURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent("entity-state-v2.json")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLUICE_WRITE_V2_FIXTURE"] != nil))
    func writeFixture() throws {
        let fixture = Fixture(streams: try Self.scenarios.map(Self.record))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(fixture).write(to: Self.fixtureURL)
    }

    func loadFixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtureURL))
    }

    @Test func currentEngineReproducesTheRecordedRun() throws {
        let fixture = try loadFixture()
        let scenarios = Self.scenarios
        try #require(fixture.streams.count == scenarios.count)
        for (recorded, scenario) in zip(fixture.streams, scenarios) {
            #expect(recorded.formatVersion == 2)
            let now = try Self.record(scenario)
            #expect(now.digestBeforeCut == recorded.digestBeforeCut, "\(scenario.name): outputs before the cut")
            #expect(now.entities.count == recorded.entities.count)
            for (a, b) in zip(now.entities, recorded.entities) {
                #expect(a.entity == b.entity)
                #expect(a.read == b.read, "\(scenario.name) \(a.entity): read at asOf")
                if EntityState.formatVersion == 2 {
                    #expect(a.state == b.state, "\(scenario.name) \(a.entity): serialized state")
                }
            }
            #expect(Self.firstDifference(now.rowsAfterCut, recorded.rowsAfterCut) == nil, "\(scenario.name): first differing output row after the cut")
        }
    }

    @Test func recordedVersion2StatesRestoreToTheSameValuesAndContinueIdentically() throws {
        let fixture = try loadFixture()
        for (recorded, scenario) in zip(fixture.streams, Self.scenarios) {
            let engine = try FeatureEngine(specs: scenario.specs, schema: scenario.schema)
            var states: [String: EntityState] = [:]
            var output: [FieldValue] = []
            for entity in recorded.entities {
                let bytes = Self.bytes(hex: entity.state)
                #expect(bytes[0] == 2)
                let state = try EntityState(deserializing: bytes[...], engine: engine)
                engine.values(of: state, asOf: recorded.asOf, output: &output)
                #expect(output.map(Self.encode) == entity.read, "\(recorded.name) \(entity.entity): read after restore")
                states[entity.entity] = state
            }
            // Continue the stream from the restored states, with the same evictions.
            var tracker = LatenessTracker()
            for item in scenario.events[..<scenario.cut] { tracker.observe(item.event.eventTimeMillis) }
            var rows: [String] = []
            for n in scenario.cut..<scenario.events.count {
                let e = scenario.events[n].event
                if tracker.isLate(e.eventTimeMillis, allowedLatenessMillis: Self.lateness) { continue }
                tracker.observe(e.eventTimeMillis)
                engine.apply(e, to: &states[e.entityID, default: engine.makeState()], output: &output)
                rows.append(Self.digest(output.map(Self.encode)))
                if n % 25 == 24 {
                    let watermark = tracker.watermark(allowedLatenessMillis: Self.lateness)
                    for key in states.keys { states[key]!.evict(olderThan: watermark) }
                }
            }
            #expect(Self.firstDifference(rows, recorded.rowsAfterCut) == nil, "\(recorded.name): first differing output row after restoring version-2 states")
        }
    }
}
