import SluiceConfiguration
import SluiceFeatures
import SluiceMonitoring
import SluiceKafka

/// Turns the validated configuration into the pipeline's parts: the event decoder, the feature engine and the
/// Kafka client settings.
package struct WorkerSetup: Sendable {
    package let config: SluiceConfig
    package let decoderConfiguration: EventDecoderConfiguration
    package let decoder: EventDecoder
    package let engine: FeatureEngine
    package let featureNames: [String]
    /// For each feature, whether its values are strings (a string field's value or last value): the drift
    /// monitor treats those as categorical, and models cannot take them.
    package let stringFeatures: [Bool]
    package let drift: DriftSettings

    /// - Throws: `WorkerError` naming the feature or field the engine refuses.
    package init(config: SluiceConfig) throws {
        self.config = config
        let schema = EventSchema(fields: config.source.fields.map { field in
            EventSchema.Field(name: field.name, type: FieldType(rawValue: field.type.rawValue) ?? .string, optional: field.isOptional)
        })
        let format: EventDecoderConfiguration.TimestampFormat
        switch config.source.eventTimeFormat {
        case .auto: format = .auto
        case .rfc3339: format = .rfc3339
        case .epochMilliseconds: format = .epochMillis
        case .epochSeconds: format = .epochSeconds
        }
        self.decoderConfiguration = EventDecoderConfiguration(
            schema: schema, entityField: config.source.entity, eventTimeField: config.source.eventTime,
            timestampFormat: format, eventIDField: config.source.eventID, maxPayloadBytes: config.source.maxPayloadBytes,
            maxFutureSkewMillis: Self.millis(config.source.maxFutureSkew))
        do {
            self.decoder = try EventDecoder(configuration: decoderConfiguration)
        } catch {
            throw WorkerError(message: "source: \(error)")
        }
        let specs = try config.features.map { declaration -> FeatureSpec in
            switch declaration.kind {
            case .value(let field):
                return FeatureSpec(name: declaration.name, kind: .value(field))
            case .aggregate(let function, let of, let window, let tile):
                guard let kind = AggregateKind(rawValue: function.rawValue) else {
                    throw WorkerError(message: "feature '\(declaration.name)': aggregate '\(function.rawValue)' is not supported by the feature engine")
                }
                let featureWindow: FeatureWindow
                if let window {
                    featureWindow = tile.map { .sliding(durationMillis: window, tileMillis: $0) } ?? .sliding(durationMillis: window)
                } else {
                    featureWindow = .lifetime
                }
                return FeatureSpec(name: declaration.name, kind: .aggregate(kind, of: of, window: featureWindow))
            }
        }
        do {
            self.engine = try FeatureEngine(specs: specs, schema: schema)
        } catch {
            throw WorkerError(message: "features: \(error)")
        }
        self.featureNames = specs.map(\.name)
        let fieldTypes = Dictionary(config.source.fields.map { ($0.name, $0.type.rawValue) }, uniquingKeysWith: { a, _ in a })
        self.stringFeatures = config.features.map { declaration in
            switch declaration.kind {
            case .value(let field): return fieldTypes[field] == "string"
            case .aggregate(let function, let of, _, _): return function == .last && of.map { fieldTypes[$0] == "string" } == true
            }
        }
        self.drift = try DriftSettings(config.drift)
        for (name, override) in config.drift.overrides.sorted(by: { $0.key < $1.key }) {
            guard let f = featureNames.firstIndex(of: name), stringFeatures[f] else { continue }
            guard DriftSettings.test(override.test).allowsCategorical else {
                throw WorkerError(message: "drift.overrides.\(name): '\(override.test.rawValue)' needs numbers but \(name) is a string feature; expected chisquare, ztest, jensenshannon or psi")
            }
        }
    }

    /// The dead-letter topic of an input topic.
    package func deadLetterTopic(for topic: String) -> String {
        config.deadLetter.topic ?? topic + config.deadLetter.topicSuffix
    }

    /// The engine's feature-set fingerprint as stored with each entity's state.
    package var featureSet: String { String(engine.fingerprint, radix: 16) }

    package var allowedLatenessMillis: Int64 { Self.millis(config.source.allowedLateness) }
    package var maxIntervalMillis: Int64 { Self.millis(config.flush.maxInterval) }
    package var commitIntervalNanos: UInt64 { UInt64(Self.millis(config.flush.commitInterval)) * 1_000_000 }

    package var consumerConfiguration: KafkaConsumerConfiguration {
        let kafka = config.kafka
        var c = KafkaConsumerConfiguration(bootstrapServers: kafka.brokers, groupID: kafka.group)
        c.clientID = kafka.clientID
        c.sessionTimeoutMillis = Int(Self.millis(kafka.consumer.sessionTimeout))
        c.heartbeatIntervalMillis = max(100, c.sessionTimeoutMillis / 10)
        c.maxPollIntervalMillis = Int(Self.millis(kafka.consumer.maxPollInterval))
        c.assignmentStrategy = KafkaConsumerConfiguration.AssignmentStrategy(rawValue: kafka.consumer.assignmentStrategy.rawValue) ?? .range
        c.pollBatchSize = kafka.consumer.pollBatchSize
        c.bufferedBatches = kafka.consumer.bufferedBatches
        c.properties = Dictionary(kafka.properties.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        return c
    }

    package var producerConfiguration: KafkaProducerConfiguration {
        let kafka = config.kafka
        var p = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
        p.clientID = kafka.clientID
        p.idempotence = kafka.producer.idempotence
        p.lingerMillis = Int(Self.millis(kafka.producer.linger))
        p.batchBytes = kafka.producer.batchBytes
        p.compression = KafkaProducerConfiguration.Compression(rawValue: kafka.producer.compression.rawValue) ?? .none
        p.messageTimeoutMillis = Int(Self.millis(kafka.producer.messageTimeout))
        p.maxMessageBytes = kafka.producer.maxMessageBytes
        p.properties = Dictionary(kafka.properties.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        return p
    }

    static func millis(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}

/// A worker set-up or run-time failure, in words a person can act on.
package struct WorkerError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package init(message: String) { self.message = message }
    package var description: String { message }
}
