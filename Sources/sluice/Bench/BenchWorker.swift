import Foundation
import SluiceConfiguration
import SluicePostgres
import SluiceWorker

/// What the worker benchmarks (`bench worker`, `bench pipeline`) share: the worker's configuration over the demo
/// events, the watch on committed offsets that gives the sustained rate, the per-stage figures and JSON output.
enum BenchWorker {
    /// The demo events' source and the example's 10 features (as in config/sluice.yaml), with the drift monitor's
    /// window; everything a run varies is set by `Settings`.
    static let featuresYAML = """
        source:
          topics: [bench]
          entity: user_id
          event_time: ts
          event_id: event_id
          allowed_lateness: 5m
          fields: {amount: double, merchant: string, country: string, channel: string?, card_present: bool?}
        features:
          - {name: amount, value: amount}
          - {name: txn_count_1h, aggregate: count, window: 1h}
          - {name: txn_count_24h, aggregate: count, window: 24h}
          - {name: amount_sum_1h, aggregate: sum, of: amount, window: 1h}
          - {name: amount_mean_24h, aggregate: mean, of: amount, window: 24h}
          - {name: amount_max_24h, aggregate: max, of: amount, window: 24h}
          - {name: amount_std_7d, aggregate: stddev, of: amount, window: 7d}
          - {name: merchants_7d, aggregate: approx_distinct, of: merchant, window: 7d}
          - {name: last_country, aggregate: last, of: country}
          - {name: secs_since_last, aggregate: time_since_last}
        drift: {window: {kind: count, size: 100000}, step: 10000, reference_events: 10000}
        """

    /// What one benchmark run sets in the worker's configuration.
    struct Settings {
        var brokers: String
        var postgresURL: String
        /// Names the consumer group, the PostgreSQL schema (`bench_<id>`) and, with `topic`, the output topics.
        var id: String
        var topic: String
        var microBatch = 5_000
        var maxInterval: Duration = .milliseconds(500)
        /// `flush.commit_interval`; nil keeps the configuration's.
        var commitInterval: Duration? = nil
        var pollBatchSize = 2_000
        var synchronousCommit = true
        var explainTopK = 0
        var drift = true
        /// `state.new_entity_filter`.
        var keyFilter = true
        /// The worker's producer `linger`; nil keeps the configuration's (5 ms by default).
        var linger: Duration? = nil
        /// The worker's producer compression; nil keeps the configuration's (lz4 by default).
        var compression: KafkaConfig.Compression? = nil
        /// librdkafka `fetch.wait.max.ms` of the worker's consumer; nil keeps librdkafka's (500 ms).
        var fetchWaitMillis: Int? = nil
        /// A configuration file whose source, features, drift and model settings replace the built-in ones
        /// (it must declare the demo events' fields).
        var configFile: String? = nil

        var schema: String { "bench_\(id)" }
        var group: String { "bench-\(id)" }
    }

    /// The worker's configuration for a run.
    static func configuration(_ settings: Settings) throws -> SluiceConfig {
        var config: SluiceConfig
        if let file = settings.configFile {
            config = try SluiceConfig.load(path: file, environment: [:]).config
        } else {
            config = try SluiceConfig.load(yamlText: featuresYAML, environment: [:]).config
        }
        config.kafka.brokers = settings.brokers
        config.kafka.group = settings.group
        config.kafka.consumer.pollBatchSize = settings.pollBatchSize
        config.kafka.consumer.bufferedBatches = 4
        if let linger = settings.linger { config.kafka.producer.linger = linger }
        if let compression = settings.compression { config.kafka.producer.compression = compression }
        if let wait = settings.fetchWaitMillis { config.kafka.properties["fetch.wait.max.ms"] = String(wait) }
        config.postgres.url = .postgresURL(settings.postgresURL)
        config.postgres.schema = settings.schema
        config.postgres.synchronousCommit = settings.synchronousCommit
        config.state.newEntityFilter = settings.keyFilter
        config.source.topics = [settings.topic]
        config.deadLetter.topic = nil
        config.deadLetter.topicSuffix = ".dlq"
        config.flush.maxEvents = settings.microBatch
        config.flush.maxInterval = settings.maxInterval
        if let commitInterval = settings.commitInterval { config.flush.commitInterval = commitInterval }
        config.outputs.predictionsTopic = settings.topic + ".predictions"
        config.outputs.alertsTopic = settings.topic + ".alerts"
        config.model.explainTopK = settings.explainTopK
        config.drift.enabled = settings.drift
        config.logging.level = .error
        return config
    }

    /// Wall-clock seconds per worker stage. The main loop runs decode + features, scoring (with the drift
    /// monitor) and state serialization one after the other; waiting for Kafka's acknowledgements and the
    /// PostgreSQL transaction run in the background, overlapping the next micro-batch.
    static func stageSeconds(_ counts: Worker.Counters) -> [String: Double] {
        ["decode_features": Double(counts.processNanos) / 1e9, "score": Double(counts.scoreNanos) / 1e9,
         "kafka_acks": Double(counts.acknowledgeNanos) / 1e9, "serialize_state": Double(counts.serializeNanos) / 1e9,
         "postgres_commit": Double(counts.commitNanos) / 1e9]
    }

    /// Prints a result as pretty JSON with snake_case keys.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Follows the events a worker has committed (the sum of the next offsets it stored in PostgreSQL), for the
/// sustained rate: events committed from the first micro-batch's commit to the last poll, over that time.
struct CommitWatch {
    let observer: PostgresConnection
    let schema: String
    /// Time and events of the first poll that saw a commit.
    private(set) var first: (nanos: UInt64, events: Int64)? = nil
    /// Time and events of the latest poll.
    private(set) var last: (nanos: UInt64, events: Int64) = (0, 0)
    /// Seconds since the first commit and events committed, about once a second.
    private(set) var progress: [[Double]] = []

    init(observer: PostgresConnection, schema: String) {
        self.observer = observer
        self.schema = schema
    }

    /// Reads the committed events now; returns them.
    @discardableResult
    mutating func poll() async throws -> Int64 {
        let stored = try await observer.query("SELECT coalesce(sum(next_offset), 0)::int8 FROM \(schema).consumer_offsets").first!.decode(Int64.self, column: 0)
        let now = Measure.now()
        if stored > 0, first == nil { first = (now, stored) }
        last = (now, stored)
        if let first {
            let seconds = Double(now - first.nanos) / 1e9
            if progress.isEmpty || seconds >= progress[progress.count - 1][0] + 1 { progress.append([seconds, Double(stored)]) }
        }
        return stored
    }

    /// Polls every 20 ms until `target` events are committed.
    mutating func wait(for target: Int64) async throws {
        while try await poll() < target {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Events per second committed between the first commit and the latest poll (0 before two commits).
    var eventsPerSecond: Double {
        guard let first, last.nanos > first.nanos else { return 0 }
        return Double(last.events - first.events) / (Double(last.nanos - first.nanos) / 1e9)
    }

    /// Events per second committed in the first and in the second half of the time since the first commit:
    /// a falling rate shows a cost that grows with the data (indexes, caches).
    var halvesEventsPerSecond: (first: Double, second: Double)? {
        guard let first, last.nanos > first.nanos, progress.count >= 4 else { return nil }
        let middle = Double(last.nanos - first.nanos) / 2e9
        guard let half = progress.last(where: { $0[0] <= middle }), half[0] > 0 else { return nil }
        let end = Double(last.nanos - first.nanos) / 1e9
        return ((half[1] - Double(first.events)) / half[0], (Double(last.events) - half[1]) / (end - half[0]))
    }
}
