import ArgumentParser
import Foundation
import Logging
import SluiceConfiguration
import SluiceFeatureStore
import SluiceInference
import SluiceKafka
import SluicePostgres
import SluiceWorker

/// `sluice bench worker`: end-to-end events/s of the worker — Kafka → decode → 10 features → PostgreSQL
/// (entity upserts, feature-log COPY, offsets in one transaction per micro-batch) — on a backlog of demo events.
struct WorkerBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "End-to-end events/s of the worker into PostgreSQL (10 features, Zipf entities), with CPU and peak RSS."
    )

    @Option(help: "Events in the backlog.")
    var events: Int = 300_000

    @Option(help: "Distinct entities (Zipf s=1.1).")
    var entities: Int = 100_000

    @Option(help: "Partitions of the bench topic (the dev cluster keeps ~5 MiB per partition).")
    var partitions: Int = 16

    @Option(help: "Events per micro-batch (flush.max_events).")
    var batch: Int = 5_000

    @Option(help: "PostgreSQL URL (default: $SLUICE_POSTGRES_URL).")
    var postgresURL: String?

    @Option(help: "Use this Kafka cluster instead of an in-process dev cluster.")
    var bootstrapServers: String?

    @Flag(help: "Run with postgres.synchronous_commit: false (commits do not wait for the WAL flush).")
    var asyncCommit = false

    @Option(help: "Score every event with this model file (XGBoost JSON, LightGBM text or linear JSON) and publish predictions.")
    var model: String?

    @Option(help: "Feature contributions per prediction when scoring (model.explain_top_k; exact TreeSHAP for trees).")
    var explainTopK: Int = 0

    @Flag(help: "Turn the drift monitor off (it runs on scored batches): with and without gives its share of the CPU.")
    var noDrift = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        CommandLogging.bootstrap(level: .error)
        let logger = CommandLogging.logger("sluice.bench.worker")
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["SLUICE_POSTGRES_URL"] else {
            throw ValidationError("no PostgreSQL URL: pass --postgres-url or set SLUICE_POSTGRES_URL (scripts/dev-postgres start)")
        }
        var cluster: DevCluster? = nil
        let brokers: String
        if let bootstrapServers { brokers = bootstrapServers } else {
            let dev = try DevCluster(brokers: 1, logger: logger)
            cluster = dev
            brokers = dev.bootstrapServers
        }
        let id = String(UUID().uuidString.prefix(8).lowercased())
        let topic = "bench-\(id)"
        if let cluster {
            try cluster.createTopic(topic, partitions: partitions)
            try cluster.createTopic(topic + ".dlq", partitions: 1)
            try cluster.createTopic(topic + ".predictions", partitions: partitions)
            try cluster.createTopic(topic + ".alerts", partitions: 1)
        } else {
            try await KafkaAdmin(bootstrapServers: brokers, logger: logger).createTopics([
                KafkaNewTopic(name: topic, partitions: partitions), KafkaNewTopic(name: topic + ".dlq", partitions: 1),
                KafkaNewTopic(name: topic + ".predictions", partitions: partitions), KafkaNewTopic(name: topic + ".alerts", partitions: 1)])
        }
        let scoring = try model.map { path in try ModelLoader.load(contentsOf: URL(fileURLWithPath: path)) }
        var producer = DemoProducer(brokers: brokers, topic: topic, events: events, malformedFraction: 0)
        producer.entities = entities
        producer.seed = 1
        let produced = try await producer.run(logger: logger)

        var settings = BenchWorker.Settings(brokers: brokers, postgresURL: url, id: id, topic: topic)
        settings.microBatch = batch
        settings.synchronousCommit = !asyncCommit
        settings.explainTopK = explainTopK
        settings.drift = !noDrift
        let schema = settings.schema
        let config = try BenchWorker.configuration(settings)
        let connection = try await PostgresConnection.connect(url: url, logger: logger)
        try await FeatureStoreMigrations.migrate(connection, schema: schema)
        let observer = try await PostgresConnection.connect(url: url, logger: logger)
        let reader = try await PostgresConnection.connect(url: url, logger: logger)
        let setup = try WorkerSetup(config: config)
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: logger)
        if let scoring {
            worker.setModels(ScoringModels(champion: try ScoringModel(name: "bench", version: 1, model: scoring, pipelineFeatures: setup.featureNames)))
        }
        let cpuBefore = Measure.cpuSeconds()
        let running = Task { try await worker.run() }

        // Sustained rate: from the first committed micro-batch to the last.
        var watch = CommitWatch(observer: observer, schema: schema)
        try await watch.wait(for: Int64(produced))
        let cpu = Measure.cpuSeconds() - cpuBefore
        let stages = worker.counts
        await worker.stop()
        try await running.value
        let result = WorkerBenchResult(
            events: produced, entities: entities, partitions: partitions, microBatch: batch, model: model, explainTopK: explainTopK, predictions: stages.predicted,
            eventsPerSecond: watch.eventsPerSecond,
            cpuSecondsPerMillion: cpu / Double(produced) * 1e6, peakRSSBytes: Measure.peakRSSBytes(),
            stageSeconds: BenchWorker.stageSeconds(stages))
        try await observer.execute("DROP SCHEMA \(schema) CASCADE")
        await observer.close()
        await connection.close()
        await reader.close()
        withExtendedLifetime(cluster) {}
        if json {
            try BenchWorker.printJSON(result)
        } else {
            print("""
                worker bench: \(produced) events, \(entities) entities (Zipf 1.1), \(partitions) partitions, micro-batch \(batch), 10 features
                  scoring        \(model.map { "\($0), \(result.predictions) predictions published, explain_top_k \(explainTopK)" } ?? "off")
                  sustained      \(String(format: "%.0f", result.eventsPerSecond)) events/s into PostgreSQL (first commit → caught up)
                  worker CPU     \(String(format: "%.2f", result.cpuSecondsPerMillion)) s per million events (this process; PostgreSQL not included)
                  peak RSS       \(result.peakRSSBytes / 1_048_576) MiB (includes the in-process dev cluster and producer)
                  stage seconds  \(result.stageSeconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", "))
                """)
        }
    }
}

struct WorkerBenchResult: Codable {
    var events: Int
    var entities: Int
    var partitions: Int
    var microBatch: Int
    var model: String?
    var explainTopK: Int
    var predictions: Int
    var eventsPerSecond: Double
    var cpuSecondsPerMillion: Double
    var peakRSSBytes: Int
    var stageSeconds: [String: Double]
}
