import Testing
@testable import SluiceConfiguration

@Suite struct ErrorReportingTests {
    @Test func unknownKeyGetsDidYouMean() throws {
        let errors = loadErrors(minimalSource + "\n  alowed_lateness: 5m\n" + minimalFeatures)
        #expect(errors.errors.count == 1)
        let error = try #require(errors.errors.first)
        #expect(error.code == .unknownKey)
        #expect(error.path == "source.alowed_lateness")
        #expect(error.message == "unknown key; did you mean 'allowed_lateness'?")
        #expect(error.suggestion == "allowed_lateness")
        #expect(error.line == 6)
        #expect(error.column == 3)
        #expect(error.description == "source.alowed_lateness (line 6, column 3): unknown key; did you mean 'allowed_lateness'?")
    }

    @Test func unknownTopLevelSectionAndFarOffKeysListTheKnownKeys() throws {
        let errors = loadErrors(minimalSource + "\n" + minimalFeatures + "\nkafak:\n  brokers: x:1\nflush:\n  zzzzzzzz: 1\n")
        #expect(errors.first(at: "kafak")?.message == "unknown key; did you mean 'kafka'?")
        #expect(errors.first(at: "flush.zzzzzzzz")?.message == "unknown key; expected one of: max_events, max_interval, commit_interval")
    }

    @Test func allErrorsAreCollectedAndReportedTogether() {
        let yaml = """
            kafka:
              producer: {compression: brotli, idempotence: maybe}
            postgres:
              pool_size: 0
            source:
              topics: [t]
              entity: u
              event_time: ts
              allowed_lateness: 5
              fields: {amount: double}
            features:
              - {name: Bad, value: amount}
              - {name: m, aggregate: mean, of: nope, window: 1h}
            flush:
              max_event: 10
            """
        let errors = loadErrors(yaml)
        #expect(errors.errors.map(\.path) == [
            "kafka.producer.compression", "kafka.producer.idempotence", "postgres.pool_size",
            "source.allowed_lateness", "features[0].name", "features[1].of", "flush.max_event",
        ])
        #expect(errors.description.hasPrefix("invalid configuration (7 problems):\n  - kafka.producer.compression (line 2, column 27): 'brotli'"))
    }

    @Test func yamlSyntaxErrorsReportLineAndColumn() throws {
        let errors = loadErrors("source:\n  topics: [a, b\n  entity: u\n")
        let error = try #require(errors.errors.first)
        #expect(errors.errors.count == 1)
        #expect(error.code == .syntax)
        #expect(error.line != nil && error.column != nil)
        #expect(error.message.hasPrefix("YAML syntax error:"))
        let tab = try #require(loadErrors("source:\n\ttopics: [a]\n").errors.first)
        #expect(tab.line == 2)
    }

    @Test func badIndentationReportsTheLine() throws {
        let error = try #require(loadErrors("source:\n  topics: [a]\n entity: u\n").errors.first)
        #expect(error.code == .syntax)
        #expect(error.line == 3)
    }

    @Test func duplicateKeysAreSyntaxErrors() throws {
        let error = try #require(loadErrors("flush:\n  max_events: 1\n  max_events: 2\n").errors.first)
        #expect(error.code == .syntax)
        #expect(error.message.contains("duplicate key 'max_events'"))
    }

    @Test func rootThatIsNotAMappingIsRefused() throws {
        let error = try #require(loadErrors("- a\n- b\n").errors.first)
        #expect(error.path == "")
        #expect(error.message == "expected a mapping of keys, found a list")
    }

    @Test func emptyDocumentNeedsTheRequiredKeys() {
        let errors = loadErrors("")
        #expect(errors.errors.map(\.path) == ["source.topics", "source.entity", "source.event_time", "features"])
    }

    @Test func quotedNullIsAStringNotAbsence() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures + "\nmodel:\n  name: \"null\"\n").config
        #expect(config.model.name == "null")
        let plain = try load(minimalSource + "\n" + minimalFeatures + "\nmodel:\n  name: null\n").config
        #expect(plain.model.name == "default")
    }

    @Test func anchorsAndAliasesAreResolved() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures + "\nlabels:\n  horizon: &h 3d\nsnapshots:\n  schedule: *h\n").config
        #expect(config.snapshots.schedule == .seconds(3 * 86_400))
    }
}

@Suite struct ErrorOrderTests {
    @Test func errorsFromTheFileComeInFileOrderThenEnvironmentErrors() {
        let yaml = minimalSource + "\n" + minimalFeatures + "\nlogging:\n  level: loud\nkafka:\n  group: \"\"\n"
        let errors = loadErrors(yaml, env: ["SLUICE_FLUSH_MAX_EVENTS": "0"])
        #expect(errors.errors.map(\.path) == ["logging.level", "kafka.group", "SLUICE_FLUSH_MAX_EVENTS (flush.max_events)"])
        #expect(errors.errors.map(\.line) == [9, 11, nil])
    }
}
