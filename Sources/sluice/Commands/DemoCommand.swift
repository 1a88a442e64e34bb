import ArgumentParser
import Foundation
import Logging
import SluiceFeatures
import SluiceKafka
import SluicePostgres

/// `sluice demo`: demo events flow through Kafka into PostgreSQL with their offsets stored in the same
/// transaction; malformed events go to the dead-letter topic. `scripts/demo` runs it on the local services.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Produce demo events and ingest them exactly once into PostgreSQL (bad events to the dead-letter topic)."
    )

    @Option(help: "Kafka bootstrap servers (default: $SLUICE_KAFKA_BROKERS).")
    var brokers: String?

    @Option(help: "Control port of `sluice dev-cluster`, used to create the topics (default: $SLUICE_KAFKA_CONTROL_PORT).")
    var controlPort: UInt16?

    @Option(help: "PostgreSQL URL (default: $SLUICE_POSTGRES_URL).")
    var postgresURL: String?

    @Option(help: "Events to produce.")
    var events: Int = 100_000

    @Option(help: "Input topic.")
    var topic: String = "transactions"

    @Option(help: "Partitions of the input topic.")
    var partitions: Int = 8

    @Option(help: "Share of malformed events, cycling through every dead-letter reason.")
    var malformedFraction: Double = 0.001

    @Option(help: "Events per micro-batch (one PostgreSQL transaction each).")
    var batchSize: Int = 5_000

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        CommandLogging.bootstrap(level: logLevel)
        let logger = CommandLogging.logger("sluice.demo")
        let environment = ProcessInfo.processInfo.environment
        guard let brokers = brokers ?? environment["SLUICE_KAFKA_BROKERS"] else {
            throw ValidationError("no Kafka brokers: pass --brokers or set SLUICE_KAFKA_BROKERS (scripts/demo starts a dev cluster)")
        }
        guard let url = postgresURL ?? environment["SLUICE_POSTGRES_URL"] else {
            throw ValidationError("no PostgreSQL URL: pass --postgres-url or set SLUICE_POSTGRES_URL (scripts/dev-postgres start prints one)")
        }
        let deadLetterTopic = topic + ".dlq"
        if let port = controlPort ?? environment["SLUICE_KAFKA_CONTROL_PORT"].flatMap(UInt16.init) {
            let control = DevClusterControl(port: port)
            try await control.createTopic(topic, partitions: partitions)
            try await control.createTopic(deadLetterTopic, partitions: 1)
        }

        let database = try await PostgresConnection.connect(url: url, logger: logger)
        try await DemoStore.migrate(database)
        print("demo: PostgreSQL \(PostgresConfiguration.redact(url)), Kafka \(brokers), topic \(topic) (\(partitions) partitions)")

        let started = Measure.now()
        let produced = try await DemoProducer(brokers: brokers, topic: topic, events: events, malformedFraction: malformedFraction)
            .run(logger: logger)
        let produceSeconds = Measure.seconds(since: started)
        print("demo: produced \(produced) events (\(String(format: "%.1f", malformedFraction * 100))% malformed) in \(String(format: "%.2f", produceSeconds)) s")

        let admin = try KafkaAdmin(bootstrapServers: brokers, logger: logger)
        var highWatermarks: [KafkaTopicPartition: Int64] = [:]
        for partition in 0..<partitions {
            let tp = KafkaTopicPartition(topic: topic, partition: Int32(partition))
            highWatermarks[tp] = try await admin.watermarks(tp).high
        }

        // The dev cluster is ephemeral but PostgreSQL is not: offsets stored for an earlier cluster lie beyond
        // this cluster's log end. Then the demo tables describe data that no longer exists; start them afresh.
        let stored = try await DemoStore.offsets(database, group: "sluice-demo", topic: topic)
        if let stale = stored.first(where: { $0.value > (highWatermarks[$0.key] ?? 0) }) {
            print("demo: stored offset \(stale.value) of \(stale.key) lies beyond its log end \(highWatermarks[stale.key] ?? 0): the dev cluster was restarted since the last run; clearing the demo tables")
            try await database.execute("TRUNCATE demo_events, demo_offsets")
        }

        let ingestStarted = Measure.now()
        let summary = try await DemoIngest(brokers: brokers, topic: topic, deadLetterTopic: deadLetterTopic, database: database,
                                           batchSize: batchSize, logger: logger)
            .run(until: highWatermarks)
        let ingestSeconds = Measure.seconds(since: ingestStarted)
        let rowCount = try await database.query("SELECT count(*) FROM demo_events").first!.decode(Int64.self, column: 0)
        print("demo: ingested \(summary.events) events in \(summary.transactions) transactions, \(String(format: "%.0f", Double(summary.events + summary.deadLettered) / ingestSeconds)) events/s")
        print("demo: dead-lettered \(summary.deadLettered) to \(deadLetterTopic): " + summary.reasons.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        print("demo: demo_events holds \(rowCount) rows; stored offsets equal the high watermarks of all \(partitions) partitions")
        await database.close()
    }
}
