import Testing
@testable import SluiceConfiguration

@Suite struct EnvironmentOverrideTests {
    private let base = minimalSource + "\n" + minimalFeatures

    @Test func scalarVariablesOverrideTheFile() throws {
        let yaml = base + "\nkafka:\n  brokers: file-broker:9092\nflush:\n  max_events: 10\n"
        let result = try load(yaml, env: [
            "SLUICE_KAFKA_BROKERS": "env-1:9092,env-2:9092",
            "SLUICE_FLUSH_MAX_EVENTS": "250",
            "SLUICE_KAFKA_PRODUCER_COMPRESSION": "zstd",
            "SLUICE_DRIFT_ALERT_COOLDOWN": "1h30m",
            "SLUICE_MODEL_SHADOW": "true",
            "SLUICE_SNAPSHOTS_HOLDOUT_FRACTION": "0.1",
        ])
        #expect(result.warnings.isEmpty)
        #expect(result.appliedVariables == [
            "SLUICE_DRIFT_ALERT_COOLDOWN", "SLUICE_FLUSH_MAX_EVENTS", "SLUICE_KAFKA_BROKERS", "SLUICE_KAFKA_PRODUCER_COMPRESSION",
            "SLUICE_MODEL_SHADOW", "SLUICE_SNAPSHOTS_HOLDOUT_FRACTION",
        ])
        #expect(result.config.kafka.brokers == "env-1:9092,env-2:9092")
        #expect(result.config.flush.maxEvents == 250)
        #expect(result.config.kafka.producer.compression == .zstd)
        #expect(result.config.drift.alertCooldown == .milliseconds(Milliseconds.hour + 30 * Milliseconds.minute))
        #expect(result.config.model.shadow)
        #expect(result.config.snapshots.holdoutFraction == 0.1)
    }

    @Test func requiredKeysCanComeFromTheEnvironmentAlone() throws {
        let result = try load(minimalFeatures, env: [
            "SLUICE_SOURCE_TOPICS": "a, b",
            "SLUICE_SOURCE_ENTITY": "user_id",
            "SLUICE_SOURCE_EVENT_TIME": "ts",
            "SLUICE_SOURCE_FIELD_amount": "double",
        ])
        #expect(result.config.source.topics == ["a", "b"])
        #expect(result.config.source.entity == "user_id")
        #expect(result.config.source.fields == [FieldDeclaration(name: "amount", type: .double)])
    }

    @Test func listVariableReplacesTheWholeList() throws {
        let config = try load(base, env: ["SLUICE_SOURCE_TOPICS": "orders,refunds"]).config
        #expect(config.source.topics == ["orders", "refunds"])
    }

    @Test func invalidVariableValuesNameTheVariableAndTheKey() {
        let errors = loadErrors(base, env: [
            "SLUICE_KAFKA_PRODUCER_COMPRESSION": "brotli",
            "SLUICE_FLUSH_MAX_EVENTS": "many",
            "SLUICE_SOURCE_TOPICS": "ok,bad topic",
        ])
        #expect(errors.errors.count == 3)
        let compression = errors.first(at: "SLUICE_KAFKA_PRODUCER_COMPRESSION (kafka.producer.compression)")
        #expect(compression?.message == "'brotli' is not valid; expected one of none, gzip, snappy, lz4, zstd")
        #expect(compression?.line == nil)
        #expect(errors.first(at: "SLUICE_FLUSH_MAX_EVENTS (flush.max_events)")?.message == "'many' is not an integer; expected an integer between 1 and 1000000")
        #expect(errors.first(at: "SLUICE_SOURCE_TOPICS (source.topics)")?.message.contains("'bad topic'") == true)
    }

    @Test func kafkaPropertyVariablesTakeTheKeyLiterallyOrFromUpperCase() throws {
        let config = try load(base + "\nkafka:\n  properties:\n    security.protocol: PLAINTEXT\n", env: [
            "SLUICE_KAFKA_PROPERTY_security.protocol": "SASL_SSL",
            "SLUICE_KAFKA_PROPERTY_SASL_MECHANISMS": "PLAIN",
            "SLUICE_KAFKA_PROPERTY_sasl.username": "svc",
        ]).config
        #expect(config.kafka.properties["security.protocol"] == "SASL_SSL")
        #expect(config.kafka.properties["sasl.mechanisms"] == "PLAIN")
        #expect(config.kafka.properties["sasl.username"] == "svc")
        #expect(config.kafka.consumerSettings.contains { $0.key == "sasl.username" && $0.value == "svc" })
        #expect(config.kafka.producerSettings.contains { $0.key == "security.protocol" && $0.value == "SASL_SSL" })
    }

    @Test func kafkaPropertyVariableRefusesManagedKeys() {
        let errors = loadErrors(base, env: ["SLUICE_KAFKA_PROPERTY_GROUP_ID": "x"])
        #expect(errors.first(at: "SLUICE_KAFKA_PROPERTY_GROUP_ID (kafka.properties[\"group.id\"])")?.message
            == "librdkafka property 'group.id' is managed by Sluice; set kafka.group instead")
    }

    @Test func secretsComeFromFilesWithTheTrailingNewlineTrimmed() throws {
        let config = try load(base, env: [
            "SLUICE_POSTGRES_URL_FILE": "/run/secrets/pg",
            "SLUICE_HTTP_TOKEN_FILE": "/run/secrets/token",
            "SLUICE_KAFKA_PROPERTY_sasl.password_FILE": "/run/secrets/kafka",
        ], files: [
            "/run/secrets/pg": "postgres://app:pw@db:5432/sluice\n",
            "/run/secrets/token": "tok\r\n",
            "/run/secrets/kafka": "kpw\n\n",
        ]).config
        #expect(config.postgres.url.value == "postgres://app:pw@db:5432/sluice")
        #expect(config.http.token?.value == "tok")
        #expect(config.http.tokenFile == "/run/secrets/token")
        #expect(config.kafka.properties["sasl.password"] == "kpw\n")  // only one trailing newline is trimmed
    }

    @Test func secretVariableAndItsFileVariantAreExclusive() {
        let errors = loadErrors(base, env: ["SLUICE_POSTGRES_URL": "postgres://a@b/c", "SLUICE_POSTGRES_URL_FILE": "/f"], files: ["/f": "x"])
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "SLUICE_POSTGRES_URL_FILE (postgres.url)")?.message == "both SLUICE_POSTGRES_URL and SLUICE_POSTGRES_URL_FILE are set; set only one")
    }

    @Test func unreadableSecretFileIsAnError() {
        let errors = loadErrors(base, env: ["SLUICE_POSTGRES_URL_FILE": "/nope"])
        let error = errors.first(at: "SLUICE_POSTGRES_URL_FILE (postgres.url)")
        #expect(error?.code == .unreadableFile)
        #expect(error?.message.hasPrefix("cannot read file '/nope'") == true)
    }

    @Test func secretFileContentIsValidatedLikeAValue() {
        let errors = loadErrors(base, env: ["SLUICE_POSTGRES_URL_FILE": "/f"], files: ["/f": "not a url\n"])
        #expect(errors.first(at: "SLUICE_POSTGRES_URL_FILE (postgres.url)")?.message.contains("is not a libpq connection string") == true)
    }

    @Test func driftOverrideAndFieldMapVariables() throws {
        let config = try load(base, env: ["SLUICE_DRIFT_OVERRIDE_amount": "wasserstein:0.3", "SLUICE_SOURCE_FIELD_score": "double?"]).config
        #expect(config.drift.overrides["amount"] == DriftConfig.Override(test: .wasserstein, threshold: 0.3))
        #expect(config.source.field(named: "score") == FieldDeclaration(name: "score", type: .double, isOptional: true))
        let errors = loadErrors(base, env: ["SLUICE_DRIFT_OVERRIDE_amount": "psi"])
        #expect(errors.first(at: "SLUICE_DRIFT_OVERRIDE_amount (drift.overrides.amount)")?.message == "'psi' is not an override; expected TEST:THRESHOLD, e.g. psi:0.2")
    }

    @Test func emptyVariableMeansUnsetAndKeepsTheDefault() throws {
        let config = try load(base, env: ["SLUICE_SNAPSHOTS_SCHEDULE": "", "SLUICE_FLUSH_MAX_EVENTS": ""]).config
        #expect(config.snapshots.schedule == nil)
        #expect(config.flush.maxEvents == FlushConfig().maxEvents)
    }

    @Test func unknownSluiceVariablesAreWarningsWithSuggestions() throws {
        let result = try load(base, env: [
            "SLUICE_KAFKA_BROKER": "x:1",
            "SLUICE_NOTHING_LIKE_IT_AT_ALL": "1",
            "SLUICE_CONFIG": "/etc/sluice.yaml",
            "PATH": "/usr/bin",
        ])
        #expect(result.warnings.map(\.variable) == ["SLUICE_KAFKA_BROKER", "SLUICE_NOTHING_LIKE_IT_AT_ALL"])
        #expect(result.warnings.first?.suggestion == "SLUICE_KAFKA_BROKERS")
        #expect(result.warnings.first?.message == "unknown variable, ignored; did you mean SLUICE_KAFKA_BROKERS?")
        #expect(result.warnings.last?.suggestion == nil)
    }

    @Test func everyScalarKeyOfTheSampleFileHasItsVariable() throws {
        // Every key the schema reads is reachable as SLUICE_<PATH>; a variable for each documented key is not warned.
        let names = [
            "SLUICE_KAFKA_CLIENT_ID", "SLUICE_KAFKA_CONSUMER_SESSION_TIMEOUT", "SLUICE_KAFKA_CONSUMER_MAX_POLL_INTERVAL",
            "SLUICE_KAFKA_CONSUMER_POLL_BATCH_SIZE", "SLUICE_KAFKA_CONSUMER_BUFFERED_BATCHES", "SLUICE_KAFKA_PRODUCER_LINGER",
            "SLUICE_POSTGRES_POOL_SIZE", "SLUICE_POSTGRES_CONNECT_TIMEOUT", "SLUICE_SOURCE_MAX_FUTURE_SKEW",
            "SLUICE_DEAD_LETTER_TOPIC_SUFFIX", "SLUICE_OUTPUTS_LABELS_TOPIC", "SLUICE_MODEL_EXPLAIN_TOP_K",
            "SLUICE_DRIFT_WINDOW_SIZE", "SLUICE_DRIFT_REFERENCE_EVENTS", "SLUICE_LABELS_RETRY_ATTEMPTS",
            "SLUICE_SNAPSHOTS_ROW_GROUP_ROWS", "SLUICE_HTTP_ADDRESS", "SLUICE_SHUTDOWN_TIMEOUT", "SLUICE_LOGGING_FORMAT",
        ]
        let env = Dictionary(uniqueKeysWithValues: names.map { ($0, "") })
        #expect(try load(base, env: env).warnings.isEmpty)
    }
}

@Suite struct TokenFileVariableTests {
    @Test func unreadableTokenFileFromTheEnvironmentNamesTheVariable() {
        let errors = loadErrors(minimalSource + "\n" + minimalFeatures, env: ["SLUICE_HTTP_TOKEN_FILE": "/missing"])
        #expect(errors.errors.count == 1)
        #expect(errors.first(at: "SLUICE_HTTP_TOKEN_FILE (http.token_file)")?.code == .unreadableFile)
    }
}
