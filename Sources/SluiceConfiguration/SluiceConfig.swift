/// The whole worker configuration: one YAML file, every scalar key overridable by a `SLUICE_*` variable.
///
/// Load it with ``load(yamlText:environment:secretFiles:reservedVariables:)`` or ``load(path:environment:)``;
/// print it with ``renderEffective()``. See docs/configuration.md for every key.
package struct SluiceConfig: Hashable, Sendable {
    /// `kafka:`.
    package var kafka = KafkaConfig()
    /// `postgres:`.
    package var postgres = PostgresConfig()
    /// `source:`.
    package var source: SourceConfig
    /// `features:`, validated against `source.fields`, in file order.
    package var features: [FeatureDeclaration]
    /// `flush:`.
    package var flush = FlushConfig()
    /// `state:`.
    package var state = StateConfig()
    /// `dead_letter:`.
    package var deadLetter = DeadLetterConfig()
    /// `outputs:`.
    package var outputs = OutputsConfig()
    /// `model:`.
    package var model = ModelConfig()
    /// `drift:`.
    package var drift = DriftConfig()
    /// `labels:`.
    package var labels = LabelsConfig()
    /// `snapshots:`.
    package var snapshots = SnapshotsConfig()
    /// `http:`.
    package var http = HTTPConfig()
    /// `shutdown:`.
    package var shutdown = ShutdownConfig()
    /// `logging:`.
    package var logging = LoggingConfig()

    /// Creates a configuration with the required parts; every other section takes its defaults.
    package init(source: SourceConfig, features: [FeatureDeclaration]) {
        self.source = source
        self.features = features
    }

    /// Variables the command line reads itself; never reported as unknown.
    package static let reservedVariables: Set<String> = ["SLUICE_CONFIG"]

    /// Parses, overrides and validates a configuration.
    ///
    /// - Parameters:
    ///   - yamlText: the YAML document (may be empty: then only defaults and the environment apply).
    ///   - environment: the process environment; `SLUICE_*` variables override keys.
    ///   - secretFiles: reads a secret file by path (`SLUICE_POSTGRES_URL_FILE`, `http.token_file`, …).
    ///   - reservedVariables: `SLUICE_*` names used elsewhere, not flagged as unknown.
    /// - Returns: the configuration and warnings about `SLUICE_*` variables that no key reads.
    /// - Throws: `ConfigErrors` listing every problem found (syntax, unknown keys, invalid or missing values).
    package static func load(
        yamlText: String,
        environment: [String: String] = [:],
        secretFiles: @escaping (_ path: String) throws -> String = SluiceConfig.readTextFile,
        reservedVariables: Set<String> = SluiceConfig.reservedVariables
    ) throws(ConfigErrors) -> ConfigLoadResult {
        let root: ConfigNode?
        switch ConfigNode.parse(yaml: yamlText) {
        case .success(let node): root = node
        case .failure(let error): throw ConfigErrors([error])
        }
        let decoder = ConfigDecoder(environment: environment, readFile: secretFiles)
        let config = decode(MappingReader(decoder: decoder, path: .root, node: root))
        if !decoder.errors.isEmpty {
            // File problems in file order; environment and cross-key problems (no position) after them, as found.
            let ordered = decoder.errors.enumerated().sorted { a, b in
                let left = (a.element.line ?? Int.max, a.element.column ?? 0, a.offset)
                let right = (b.element.line ?? Int.max, b.element.column ?? 0, b.offset)
                return left < right
            }.map(\.element)
            throw ConfigErrors(ordered)
        }
        return ConfigLoadResult(
            config: config, warnings: unknownVariables(decoder, reserved: reservedVariables),
            appliedVariables: decoder.appliedVariables.sorted())
    }

    private static func decode(_ root: MappingReader) -> SluiceConfig {
        let kafka = section(root, "kafka", KafkaConfig.decode)
        let postgres = section(root, "postgres", PostgresConfig.decode)
        let source = section(root, "source", SourceConfig.decode)
        let features = FeatureDeclaration.decodeList(root, fields: source.fields, source: source)
        var config = SluiceConfig(source: source, features: features)
        config.kafka = kafka
        config.postgres = postgres
        config.flush = section(root, "flush", FlushConfig.decode)
        config.state = section(root, "state", StateConfig.decode)
        config.deadLetter = section(root, "dead_letter", DeadLetterConfig.decode)
        config.outputs = section(root, "outputs", OutputsConfig.decode)
        config.model = section(root, "model", ModelConfig.decode)
        config.drift = section(root, "drift", DriftConfig.decode)
        config.labels = section(root, "labels", LabelsConfig.decode)
        config.snapshots = section(root, "snapshots", SnapshotsConfig.decode)
        config.http = section(root, "http", HTTPConfig.decode)
        config.shutdown = section(root, "shutdown", ShutdownConfig.decode)
        config.logging = section(root, "logging", LoggingConfig.decode)
        root.finish()
        config.checkCrossReferences(root.decoder)
        return config
    }

    /// Decodes one top-level section, then flags its unknown keys.
    private static func section<Section>(_ root: MappingReader, _ key: String, _ decode: (MappingReader) -> Section) -> Section {
        let reader = root.section(key)
        let value = decode(reader)
        reader.finish()
        return value
    }

    /// Checks that need more than one section.
    private func checkCrossReferences(_ decoder: ConfigDecoder) {
        // The monitor also watches the model's score, under the name `score`.
        let featureNames = features.map(\.name) + (features.contains { $0.name == "score" } ? [] : ["score"])
        let overridesPath = ConfigPath.root.key("drift").key("overrides")
        for name in drift.overrides.keys.sorted() where !featureNames.contains(name) {
            var message = "'\(name)' is not a declared feature"
            if let near = EditDistance.closest(to: name, among: featureNames) {
                message += "; did you mean '\(near)'?"
            }
            decoder.report(.invalidValue, at: overridesPath.entry(name), message)
        }
        let outputs: [(String, String)] = [
            ("predictions_topic", self.outputs.predictionsTopic), ("alerts_topic", self.outputs.alertsTopic),
            ("retrain_topic", self.outputs.retrainTopic),
        ]
        for (key, topic) in outputs where source.topics.contains(topic) {
            decoder.report(.invalidValue, at: ConfigPath.root.key("outputs").key(key),
                           "'\(topic)' is also an input topic in source.topics; the worker would consume its own output")
        }
        if deadLetter.topic == nil {
            for topic in source.topics where (topic + deadLetter.topicSuffix).utf8.count > 249 {
                decoder.report(.invalidValue, at: ConfigPath.root.key("dead_letter").key("topic_suffix"),
                               "'\(topic)\(deadLetter.topicSuffix)' is longer than Kafka's 249-character topic limit; use a shorter suffix or set dead_letter.topic")
            }
        }
        if let topic = deadLetter.topic, source.topics.contains(topic) {
            decoder.report(.invalidValue, at: ConfigPath.root.key("dead_letter").key("topic"),
                           "'\(topic)' is also an input topic in source.topics; dead letters would be consumed again")
        }
    }

    /// Warnings for `SLUICE_*` variables no key reads.
    private static func unknownVariables(_ decoder: ConfigDecoder, reserved: Set<String>) -> [ConfigWarning] {
        decoder.environment.keys.filter { name in
            name.hasPrefix("SLUICE_") && !reserved.contains(name) && !decoder.knownVariables.contains(name)
                && !decoder.knownPrefixes.contains(where: { name.hasPrefix($0) && name.count > $0.count })
        }.sorted().map { name in
            let suggestion = EditDistance.closest(to: name, among: decoder.knownVariables)
            let message = suggestion.map { "unknown variable, ignored; did you mean \($0)?" } ?? "unknown variable, ignored; no configuration key reads it"
            return ConfigWarning(variable: name, message: message, suggestion: suggestion)
        }
    }
}
