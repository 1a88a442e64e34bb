import Testing
@testable import SluiceConfiguration

/// One failing test per rule of the non-feature sections, asserting the key path and message.
@Suite struct SectionValidationTests {
    @Test func compressionMustBeAKnownCodec() throws {
        let error = try #require(singleError("kafka:\n  producer:\n    compression: brotli"))
        #expect(error.path == "kafka.producer.compression")
        #expect(error.message == "'brotli' is not valid; expected one of none, gzip, snappy, lz4, zstd")
        #expect(error.line == 10)
        #expect(error.column == 18)
    }

    @Test func assignmentStrategyMustBeKnown() throws {
        let error = try #require(singleError("kafka:\n  consumer:\n    assignment_strategy: sticky"))
        #expect(error.path == "kafka.consumer.assignment_strategy")
        #expect(error.message.hasPrefix("'sticky' is not valid; expected one of range, roundrobin, cooperative-sticky"))
    }

    @Test func brokersMustBeHostPortPairs() throws {
        let error = try #require(singleError("kafka:\n  brokers: kafka-1:9092,kafka-2"))
        #expect(error.path == "kafka.brokers")
        #expect(error.message.contains("'kafka-2': missing ':port'"))
    }

    @Test func idempotenceIsAStrictBoolean() throws {
        let error = try #require(singleError("kafka:\n  producer:\n    idempotence: yes"))
        #expect(error.path == "kafka.producer.idempotence")
        #expect(error.message == "'yes' is not a boolean; expected true or false")
    }

    @Test func batchBytesTakesSizesAndRefusesGarbage() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures + "\nkafka:\n  producer:\n    batch_bytes: 64KiB\n").config
        #expect(config.kafka.producer.batchBytes == 64 * 1024)
        let error = try #require(singleError("kafka:\n  producer:\n    batch_bytes: lots"))
        #expect(error.path == "kafka.producer.batch_bytes")
        #expect(error.message.hasPrefix("'lots' is not a valid size"))
    }

    @Test func managedLibrdkafkaPropertiesAreRefused() throws {
        let error = try #require(singleError("kafka:\n  properties:\n    bootstrap.servers: x:1"))
        #expect(error.path == "kafka.properties[\"bootstrap.servers\"]")
        #expect(error.message == "librdkafka property 'bootstrap.servers' is managed by Sluice; set kafka.brokers instead")
        let commit = try #require(singleError("kafka:\n  properties:\n    enable.auto.commit: \"true\""))
        #expect(commit.message.contains("offsets are committed to PostgreSQL"))
    }

    @Test func poolSizeMustBeBetween1And64() throws {
        let error = try #require(singleError("postgres:\n  pool_size: 65"))
        #expect(error.path == "postgres.pool_size")
        #expect(error.message == "65 is out of range; expected an integer between 1 and 64")
    }

    @Test func postgresURLMustBeAConnectionStringWithoutEchoingIt() throws {
        let error = try #require(singleError("postgres:\n  url: https://user:hunter2@db/x"))
        #expect(error.path == "postgres.url")
        #expect(error.message.contains("is not a libpq connection string"))
        #expect(!error.message.contains("hunter2"))
    }

    @Test func schemaMustBeAnIdentifier() throws {
        let error = try #require(singleError("postgres:\n  schema: My-Schema"))
        #expect(error.path == "postgres.schema")
        #expect(error.message.contains("'My-Schema' is not a valid name"))
    }

    @Test func sourceRequiresTopicsEntityAndEventTime() {
        let errors = loadErrors("source:\n  fields: {amount: double}\n" + minimalFeatures)
        #expect(errors.errors.map(\.path) == ["source.topics", "source.entity", "source.event_time"])
        #expect(errors.errors.allSatisfy { $0.code == .missingKey })
        #expect(errors.first(at: "source.entity")?.message == "missing required key; expected a non-empty string; set it in the file or with SLUICE_SOURCE_ENTITY")
    }

    @Test func emptyTopicListIsRefused() throws {
        let errors = loadErrors("source:\n  topics: []\n  entity: u\n  event_time: ts\n  fields: {amount: double}\n" + minimalFeatures)
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "source.topics")?.message.hasPrefix("missing required key; expected a non-empty list") == true)
    }

    @Test func invalidTopicNameIsRefusedAtItsIndex() throws {
        let errors = loadErrors("source:\n  topics: [ok, \"bad topic\"]\n  entity: u\n  event_time: ts\n  fields: {amount: double}\n" + minimalFeatures)
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "source.topics[1]")?.message.hasPrefix("'bad topic' is not a valid Kafka topic name") == true)
    }

    @Test func fieldTypesAreCheckedWithSuggestion() throws {
        let errors = loadErrors("source:\n  topics: [t]\n  entity: u\n  event_time: ts\n  fields: {amount: float?, x: int}\nfeatures:\n  - {name: x, value: x}\n")
        #expect(errors.errors.count == 1)
        let error = try #require(errors.first(at: "source.fields.amount"))
        #expect(error.message.hasPrefix("'float?' is not a field type; expected double, int, string or bool"))
    }

    @Test func optionalFieldTypesAreParsed() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures).config
        #expect(config.source.field(named: "note") == FieldDeclaration(name: "note", type: .string, isOptional: true))
        #expect(config.source.field(named: "count")?.type == .int)
    }

    @Test func entityMustNotBeListedInFields() throws {
        let errors = loadErrors("source:\n  topics: [t]\n  entity: u\n  event_time: ts\n  fields: {u: string, amount: double}\n" + minimalFeatures)
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "source.fields.u")?.message.hasPrefix("'u' is the entity field") == true)
    }

    @Test func eventTimeFormatMustBeKnown() throws {
        let errors = loadErrors(minimalSource + "\n  event_time_format: iso\n" + minimalFeatures)
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "source.event_time_format")?.message.hasPrefix("'iso' is not valid; expected one of auto, rfc3339, epoch_ms, epoch_s") == true)
    }

    @Test func maxPayloadBytesTakesSizes() throws {
        let config = try load(minimalSource + "\n  max_payload_bytes: 64KiB\n" + minimalFeatures).config
        #expect(config.source.maxPayloadBytes == 64 * 1024)
    }

    @Test func allowedLatenessMustBeADuration() throws {
        let errors = loadErrors(minimalSource + "\n  allowed_lateness: 300\n" + minimalFeatures)
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "source.allowed_lateness")?.message.hasPrefix("'300' has no unit; write e.g. '300s' or '300ms'") == true)
    }

    @Test func flushLimitsAreChecked() throws {
        let error = try #require(singleError("flush:\n  max_events: 0"))
        #expect(error.path == "flush.max_events")
        #expect(error.message == "0 is out of range; expected an integer between 1 and 1000000")
        let interval = try #require(singleError("flush:\n  max_interval: 0s"))
        #expect(interval.path == "flush.max_interval")
        #expect(interval.message.contains("out of range"))
        let commit = try #require(singleError("flush:\n  commit_interval: 2h"))
        #expect(commit.path == "flush.commit_interval")
        #expect(commit.message.contains("out of range"))
        let immediate = try load(minimalSource + "\n" + minimalFeatures + "\nflush:\n  commit_interval: 0s")
        #expect(immediate.config.flush.commitInterval == .zero, "0: commit as soon as the previous transaction ends")
    }

    @Test func deadLetterSuffixAndTopicAreChecked() throws {
        let error = try #require(singleError("dead_letter:\n  topic_suffix: \"\""))
        #expect(error.path == "dead_letter.topic_suffix")
        let topic = try #require(singleError("dead_letter:\n  topic: transactions"))
        #expect(topic.path == "dead_letter.topic")
        #expect(topic.message.contains("also an input topic"))
        let config = try load(minimalSource + "\n" + minimalFeatures + "\ndead_letter:\n  topic: all-dlq\n").config
        #expect(config.deadLetter.topic(forInput: "transactions") == "all-dlq")
    }

    @Test func outputTopicMustNotBeAnInputTopic() throws {
        let error = try #require(singleError("outputs:\n  predictions_topic: transactions"))
        #expect(error.path == "outputs.predictions_topic")
        #expect(error.message == "'transactions' is also an input topic in source.topics; the worker would consume its own output")
    }

    @Test func explainTopKIsBounded() throws {
        let error = try #require(singleError("model:\n  explain_top_k: 51"))
        #expect(error.path == "model.explain_top_k")
        #expect(error.message == "51 is out of range; expected an integer between 0 and 50")
    }

    @Test func driftWindowKindDecidesSizeOrDuration() throws {
        let timeConfig = try load(minimalSource + "\n" + minimalFeatures + "\ndrift:\n  window: {kind: time, duration: 1h}\n  step: 5m\n").config
        #expect(timeConfig.drift.window == .time(.seconds(3600)))
        #expect(timeConfig.drift.step == .duration(.seconds(300)))
        let missing = try #require(singleError("drift:\n  window: {kind: time}"))
        #expect(missing.path == "drift.window.duration")
        #expect(missing.code == .missingKey)
        let mixed = try #require(singleError("drift:\n  window: {kind: count, duration: 1h}"))
        #expect(mixed.path == "drift.window.duration")
        #expect(mixed.message.hasPrefix("'duration' applies to time windows"))
        let kind = try #require(singleError("drift:\n  window: {kind: sliding}"))
        #expect(kind.path == "drift.window.kind")
    }

    @Test func driftStepMustMatchTheWindowKindAndFit() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures + "\ndrift:\n  window: {size: 5000}\n").config
        #expect(config.drift.step == .events(500))
        let wrongKind = try #require(singleError("drift:\n  step: 5m"))
        #expect(wrongKind.path == "drift.step")
        #expect(wrongKind.message.hasPrefix("a count window slides by a number of events"))
        let tooLarge = try #require(singleError("drift:\n  window: {size: 1000}\n  step: 2000"))
        #expect(tooLarge.message == "step 2000 is larger than the window (1000 events); expected at most the window size")
    }

    @Test func driftDatasetShareIsBetweenZeroAndOne() throws {
        let error = try #require(singleError("drift:\n  dataset_share: 1.5"))
        #expect(error.path == "drift.dataset_share")
        #expect(error.message == "1.5 is out of range; expected a number between 0 and 1")
    }

    @Test func driftOverridesNeedAKnownTestAndFeature() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures + "\ndrift:\n  overrides:\n    amount: {test: psi, threshold: 0.2}\n").config
        #expect(config.drift.overrides["amount"] == DriftConfig.Override(test: .psi, threshold: 0.2))
        let score = try load(minimalSource + "\n" + minimalFeatures + "\ndrift:\n  overrides:\n    score: {test: psi, threshold: 0.2}\n").config
        #expect(score.drift.overrides["score"]?.test == .psi, "the model's score is monitored under the name score")
        let test = try #require(singleError("drift:\n  overrides:\n    amount: {test: kolmogorov, threshold: 0.2}"))
        #expect(test.path == "drift.overrides.amount.test")
        let feature = try #require(singleError("drift:\n  overrides:\n    amont: {test: ks, threshold: 0.05}"))
        #expect(feature.path == "drift.overrides.amont")
        #expect(feature.message == "'amont' is not a declared feature; did you mean 'amount'?")
        let threshold = try #require(singleError("drift:\n  overrides:\n    amount: {test: ks, threshold: -1}"))
        #expect(threshold.path == "drift.overrides.amount.threshold")
        let missing = try #require(singleError("drift:\n  overrides:\n    amount: {test: ks}"))
        #expect(missing.path == "drift.overrides.amount.threshold")
        #expect(missing.code == .missingKey)
    }

    @Test func snapshotsHoldoutFractionAndScheduleAreChecked() throws {
        let error = try #require(singleError("snapshots:\n  holdout_fraction: -0.1"))
        #expect(error.path == "snapshots.holdout_fraction")
        let config = try load(minimalSource + "\n" + minimalFeatures + "\nsnapshots:\n  schedule: 24h\n").config
        #expect(config.snapshots.schedule == .seconds(86_400))
        let onAlert = try #require(singleError("snapshots:\n  on_alert: 1"))
        #expect(onAlert.path == "snapshots.on_alert")
    }

    @Test func httpAddressAndTokenAreChecked() throws {
        let error = try #require(singleError("http:\n  address: 8080"))
        #expect(error.path == "http.address")
        #expect(error.message.hasPrefix("'8080' is not a valid address"))
        // Port 0 listens on a free port (tests, several workers on one host); 65536 does not exist.
        #expect(try load(minimalSource + "\n" + minimalFeatures + "\nhttp:\n  address: 127.0.0.1:0\n").config.http.address == "127.0.0.1:0")
        let tooHigh = try #require(singleError("http:\n  address: 0.0.0.0:65536"))
        #expect(tooHigh.message.contains("port '65536' is not between 0 and 65535"))
        let both = loadErrors(minimalSource + "\n" + minimalFeatures + "\nhttp:\n  token: abc\n  token_file: /t\n", files: ["/t": "x"])
        #expect(both.first(at: "http.token_file")?.message == "both http.token and http.token_file are set; set only one")
        let unreadable = try #require(singleError("http:\n  token_file: /missing"))
        #expect(unreadable.code == .unreadableFile)
        #expect(unreadable.message.contains("cannot read file '/missing'"))
    }

    @Test func httpTokenFileIsRead() throws {
        let config = try load(minimalSource + "\n" + minimalFeatures + "\nhttp:\n  token_file: /t\n", files: ["/t": "s3cret\n"]).config
        #expect(config.http.token?.value == "s3cret")
        #expect(config.http.tokenFile == "/t")
    }

    @Test func loggingLevelSuggestsTheNearestLevel() throws {
        let error = try #require(singleError("logging:\n  level: warn"))
        #expect(error.path == "logging.level")
        #expect(error.message.hasSuffix("(did you mean 'warning'?)"))
    }

    @Test func shutdownAndLabelsDurationsAreChecked() throws {
        #expect(try #require(singleError("shutdown:\n  timeout: 0s")).path == "shutdown.timeout")
        #expect(try #require(singleError("labels:\n  retry:\n    backoff: soon")).path == "labels.retry.backoff")
        #expect(try #require(singleError("labels:\n  horizon: 7")).path == "labels.horizon")
    }

    @Test func sectionThatIsNotAMappingIsRefused() throws {
        let error = try #require(singleError("kafka: [a, b]"))
        #expect(error.path == "kafka")
        #expect(error.message == "expected a mapping of keys, found a list")
    }

    @Test func scalarKeyGivenAListIsRefused() throws {
        let error = try #require(singleError("postgres:\n  pool_size: [1, 2]"))
        #expect(error.path == "postgres.pool_size")
        #expect(error.message == "expected an integer between 1 and 64, found a list")
    }
}
