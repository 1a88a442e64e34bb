import Testing
@testable import SluiceConfiguration

/// One failing test per feature rule, asserting the key path and message.
@Suite struct FeatureValidationTests {
    private func featureError(_ features: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
        singleError("", features: "features:\n" + features, sourceLocation: sourceLocation)
    }

    @Test func invalidNameIsRefused() throws {
        let error = try #require(featureError("  - {name: Amount, value: amount}"))
        #expect(error.path == "features[0].name")
        #expect(error.message.contains("'Amount' is not a valid name"))
        #expect(error.message.contains("[a-z_][a-z0-9_]*"))
        #expect(error.line == 7)  // minimalSource is 5 lines, then "features:"
    }

    @Test func nameLongerThan63CharactersIsRefused() throws {
        let long = String(repeating: "a", count: 64)
        let error = try #require(featureError("  - {name: \(long), value: amount}"))
        #expect(error.path == "features[0].name")
        #expect(error.message.contains("64 characters long; expected at most 63"))
    }

    @Test func duplicateNamesAreRefusedPointingAtTheFirst() throws {
        let error = try #require(featureError("""
              - {name: amount, value: amount}
              - {name: n, aggregate: count}
              - {name: amount, aggregate: sum, of: amount}
            """))
        #expect(error.path == "features[2].name")
        #expect(error.message == "duplicate feature name 'amount' (already declared at features[0]); names must be unique")
    }

    @Test func neitherValueNorAggregateIsRefused() throws {
        let error = try #require(featureError("  - {name: amount}"))
        #expect(error.path == "features[0]")
        #expect(error.code == .missingKey)
        #expect(error.message.contains("exactly one of 'value: FIELD'"))
    }

    @Test func bothValueAndAggregateAreRefused() throws {
        let error = try #require(featureError("  - {name: amount, value: amount, aggregate: sum, of: amount}"))
        #expect(error.path == "features[0]")
        #expect(error.message == "set exactly one of 'value' and 'aggregate', not both")
    }

    @Test func unknownAggregateIsRefusedWithSuggestion() throws {
        let error = try #require(featureError("  - {name: a, aggregate: avg, of: amount}"))
        #expect(error.path == "features[0].aggregate")
        #expect(error.message.hasPrefix("'avg' is not valid; expected one of count, sum, mean, min, max, variance, stddev, last, approx_distinct, time_since_last"))
    }

    @Test func ofMustNameADeclaredField() throws {
        let error = try #require(featureError("  - {name: a, aggregate: sum, of: amout}"))
        #expect(error.path == "features[0].of")
        #expect(error.message == "'amout' is not a declared field; declare it in source.fields (did you mean 'amount'?)")
    }

    @Test func valueMustNameADeclaredField() throws {
        let error = try #require(featureError("  - {name: a, value: price}"))
        #expect(error.path == "features[0].value")
        #expect(error.message.hasPrefix("'price' is not a declared field"))
    }

    @Test func entityFieldIsNotAnAggregatableField() throws {
        let error = try #require(featureError("  - {name: users, aggregate: approx_distinct, of: user_id}"))
        #expect(error.path == "features[0].of")
        #expect(error.message.contains("'user_id' is the source's entity field"))
    }

    @Test(arguments: ["sum", "mean", "min", "max", "variance", "stddev", "last", "approx_distinct"])
    func ofIsRequiredForFieldAggregates(function: String) throws {
        let error = try #require(featureError("  - {name: a, aggregate: \(function), window: 1h}"))
        #expect(error.path == "features[0].of")
        #expect(error.code == .missingKey)
        #expect(error.message.contains("\(function) needs a field"))
    }

    @Test(arguments: ["count", "time_since_last"])
    func ofIsOptionalForCountAndTimeSinceLast(function: String) throws {
        let config = try load(minimalSource + "\nfeatures:\n  - {name: a, aggregate: \(function)}\n").config
        #expect(config.features.first?.kind == .aggregate(.init(rawValue: function)!, of: nil, windowMilliseconds: nil, tileMilliseconds: nil))
    }

    @Test(arguments: ["sum", "mean", "min", "max", "variance", "stddev"])
    func numericAggregatesNeedNumericFields(function: String) throws {
        let error = try #require(featureError("  - {name: a, aggregate: \(function), of: merchant}"))
        #expect(error.path == "features[0].of")
        #expect(error.message == "'merchant' is a string field; \(function) needs a numeric field (double or int)")
    }

    @Test func numericAggregatesAcceptIntAndBoolIsRefused() throws {
        let config = try load(minimalSource + "\nfeatures:\n  - {name: a, aggregate: sum, of: count}\n").config
        #expect(config.features.first?.kind == .aggregate(.sum, of: "count", windowMilliseconds: nil, tileMilliseconds: nil))
        let error = try #require(featureError("  - {name: a, aggregate: mean, of: flag}"))
        #expect(error.message == "'flag' is a bool field; mean needs a numeric field (double or int)")
    }

    @Test func windowShorterThanOneSecondIsRefused() throws {
        let error = try #require(featureError("  - {name: a, aggregate: count, window: 500ms}"))
        #expect(error.path == "features[0].window")
        #expect(error.message == "'500ms' is out of range; expected a duration between 1s and 30d")
    }

    @Test func windowLongerThanThirtyDaysIsRefused() throws {
        let error = try #require(featureError("  - {name: a, aggregate: count, window: 31d}"))
        #expect(error.path == "features[0].window")
        #expect(error.message.contains("between 1s and 30d"))
    }

    @Test func windowWithoutUnitIsRefused() throws {
        let error = try #require(featureError("  - {name: a, aggregate: count, window: 3600}"))
        #expect(error.path == "features[0].window")
        #expect(error.message.hasPrefix("'3600' has no unit"))
    }

    @Test func tileMustDivideTheWindow() throws {
        let error = try #require(featureError("  - {name: a, aggregate: count, window: 1h, tile: 7m}"))
        #expect(error.path == "features[0].tile")
        #expect(error.message.hasPrefix("tile 7m does not divide window 1h"))
    }

    @Test func tileThatDividesIsKeptInMilliseconds() throws {
        let config = try load(minimalSource + "\nfeatures:\n  - {name: a, aggregate: max, of: amount, window: 1h, tile: 5m}\n").config
        #expect(config.features.first?.kind == .aggregate(.max, of: "amount", windowMilliseconds: Milliseconds.hour, tileMilliseconds: 5 * Milliseconds.minute))
    }

    @Test func tileWithoutWindowIsRefused() throws {
        let error = try #require(featureError("  - {name: a, aggregate: count, tile: 5m}"))
        #expect(error.path == "features[0].tile")
        #expect(error.message == "tile needs a window; set 'window' or remove 'tile'")
    }

    @Test func timeSinceLastTakesNoWindow() throws {
        let error = try #require(featureError("  - {name: a, aggregate: time_since_last, window: 1h}"))
        #expect(error.path == "features[0].window")
        #expect(error.message == "time_since_last takes no window; remove it")
    }

    @Test func valueFeatureRefusesAggregateKeys() throws {
        let error = try #require(featureError("  - {name: a, value: amount, window: 1h}"))
        #expect(error.path == "features[0].window")
        #expect(error.message.contains("only applies to aggregates"))
    }

    @Test func unknownFeatureKeyGetsDidYouMean() throws {
        let error = try #require(featureError("  - {name: a, aggregate: count, windw: 1h}"))
        #expect(error.path == "features[0].windw")
        #expect(error.message == "unknown key; did you mean 'window'?")
        #expect(error.suggestion == "window")
    }

    @Test func featuresMustBeANonEmptyList() throws {
        let missing = loadErrors(minimalSource)
        #expect(missing.first(at: "features")?.code == .missingKey)
        let empty = loadErrors(minimalSource + "\nfeatures: []\n")
        #expect(empty.first(at: "features")?.message == "empty list; declare at least one feature")
        let mapping = loadErrors(minimalSource + "\nfeatures: {a: b}\n")
        #expect(mapping.first(at: "features")?.message == "expected a list of feature declarations, found a mapping")
    }
}
