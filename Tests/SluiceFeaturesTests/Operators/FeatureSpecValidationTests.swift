import Testing
@testable import SluiceFeatures

@Suite struct FeatureSpecValidationTests {
    let schema = EventSchema(fields: [
        .init(name: "amount", type: .double),
        .init(name: "qty", type: .int),
        .init(name: "merchant", type: .string),
        .init(name: "vip", type: .bool),
    ])

    func error(_ spec: FeatureSpec) -> FeatureSpecError? {
        #expect(throws: FeatureSpecError.self) { try FeatureEngine(specs: [spec], schema: schema) }
    }

    @Test func exampleConfigurationIsValid() throws {
        let engine = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
        #expect(engine.specs.count == 10)
    }

    @Test func numericAggregateOverStringNamesFeatureFieldAndType() {
        let e = error(FeatureSpec(name: "amount_mean_24h", kind: .aggregate(.mean, of: "merchant", window: .sliding(durationMillis: Millis.day))))
        #expect(e?.message == "feature 'amount_mean_24h': aggregate 'mean' needs a numeric field in 'of', got 'merchant' (string)")
        #expect(e?.feature == "amount_mean_24h")
    }

    @Test func countTakesNoField() {
        let e = error(FeatureSpec(name: "c", kind: .aggregate(.count, of: "amount", window: .lifetime)))
        #expect(e?.message.contains("takes no 'of'") == true)
    }

    @Test func aggregatesThatReadAFieldRequireOne() {
        for kind in AggregateKind.allCases where kind.needsField {
            let e = error(FeatureSpec(name: "f", kind: .aggregate(kind, of: nil, window: .lifetime)))
            #expect(e?.message.contains("needs a field in 'of'") == true, "\(kind)")
        }
    }

    @Test func unknownFieldIsNamedWithTheDeclaredOnes() {
        let e = error(FeatureSpec(name: "f", kind: .aggregate(.sum, of: "amt", window: .lifetime)))
        #expect(e?.message.contains("'amt'") == true)
        #expect(e?.message.contains("amount, qty, merchant, vip") == true)
        #expect(error(FeatureSpec(name: "v", kind: .value("nope"))) != nil)
    }

    @Test func approxDistinctAcceptsStringIntBoolButNotDouble() throws {
        for field in ["merchant", "qty", "vip"] {
            _ = try FeatureEngine(specs: [FeatureSpec(name: "d", kind: .aggregate(.approxDistinct, of: field, window: .lifetime))], schema: schema)
        }
        let e = error(FeatureSpec(name: "d", kind: .aggregate(.approxDistinct, of: "amount", window: .lifetime)))
        #expect(e?.message.contains("string, int or bool") == true)
    }

    @Test func lastAcceptsEveryType() throws {
        for field in schema.fields.map(\.name) {
            _ = try FeatureEngine(specs: [FeatureSpec(name: "l", kind: .aggregate(.last, of: field, window: .sliding(durationMillis: Millis.hour)))], schema: schema)
        }
    }

    @Test func windowsMustBeBetweenOneSecondAndThirtyDays() throws {
        for duration in [Int64(999), 30 * Millis.day + 1_000, 0, -5_000] {
            let e = error(FeatureSpec(name: "w", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: duration, tileMillis: 1))))
            #expect(e?.message.contains("between 1s and 30d") == true, "\(duration)")
        }
        _ = try FeatureEngine(specs: [
            FeatureSpec(name: "a", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: 1_000))),
            FeatureSpec(name: "b", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: 30 * Millis.day))),
        ], schema: schema)
        let fractional = error(FeatureSpec(name: "w", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: 1_500, tileMillis: 500))))
        #expect(fractional?.message.contains("whole number of seconds") == true)
        let badTile = error(FeatureSpec(name: "w", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: Millis.hour, tileMillis: 7 * Millis.minute))))
        #expect(badTile?.message.contains("divide the window 1h") == true)
    }

    @Test func timeSinceLastTakesNoWindowAndNoField() {
        #expect(error(FeatureSpec(name: "t", kind: .aggregate(.timeSinceLast, of: nil, window: .sliding(durationMillis: Millis.hour)))) != nil)
        #expect(error(FeatureSpec(name: "t", kind: .aggregate(.timeSinceLast, of: "amount", window: .lifetime))) != nil)
    }

    @Test func duplicateAndEmptyNamesAreRefused() {
        let spec = FeatureSpec(name: "x", kind: .aggregate(.count, of: nil, window: .lifetime))
        let e = #expect(throws: FeatureSpecError.self) { try FeatureEngine(specs: [spec, spec], schema: schema) }
        #expect(e?.message.contains("more than one feature") == true)
        #expect(error(FeatureSpec(name: "", kind: .value("amount"))) != nil)
    }

    /// The default tile follows the documented rule, checked against a brute-force search over all
    /// whole-second divisors for every window from 1 s to 2 h and for the common long windows.
    @Test func defaultTileIsTheLargestNiceDivisorWithAtLeast24Tiles() {
        var windows: [Int64] = (1...7_200).map { Int64($0) * 1_000 }
        windows += [6, 12, 24, 48, 72, 168, 336, 720].map { $0 * Millis.hour }
        for w in windows {
            let r = FeatureWindow.defaultTileMillis(forDurationMillis: w)
            #expect(w % r == 0, "tile \(r) must divide \(w)")
            let candidates = FeatureWindow.niceTileMillis.filter { w % $0 == 0 && w / $0 >= 24 }
            if let best = candidates.max() {
                #expect(r == best, "window \(w)")
            } else {
                #expect(w < 24_000 && r == 1_000, "window \(w) has no nice tile, expected the 1 s fallback")
            }
        }
    }

    @Test func fingerprintIsStableAndSensitive() throws {
        let a = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
        let b = try FeatureEngine(specs: ExampleFeatures.specs, schema: ExampleFeatures.schema)
        #expect(a.fingerprint == b.fingerprint)
        var renamed = ExampleFeatures.specs
        renamed[0].name = "amount2"
        #expect(try FeatureEngine(specs: renamed, schema: ExampleFeatures.schema).fingerprint != a.fingerprint)
        var retiled = ExampleFeatures.specs
        retiled[1].kind = .aggregate(.count, of: nil, window: .sliding(durationMillis: Millis.hour, tileMillis: 5 * Millis.minute))
        #expect(try FeatureEngine(specs: retiled, schema: ExampleFeatures.schema).fingerprint != a.fingerprint)
    }
}
