import ArgumentParser
import Foundation
import Logging
import SluiceFeatures
import SluiceKafka

/// Produces demo events (~150-byte JSON, 100,000 entities drawn Zipf(1.1)) keyed by entity id; malformed
/// ones, cycling through every dead-letter reason, without a key.
struct DemoProducer {
    var brokers: String
    var topic: String
    var events: Int
    var malformedFraction: Double
    var seed: UInt64 = UInt64.random(in: 0..<UInt64.max)
    var entities: Int = 100_000
    /// Events per second; nil produces as fast as possible.
    var rate: Double? = nil
    /// Event time of the first event, epoch ms; nil spreads the events (10 ms apart) so the last one is now.
    var startMillis: Int64? = nil

    /// Produces the events and waits for Kafka's acknowledgements; returns how many were delivered.
    func run(logger: Logger) async throws -> Int {
        var options = DemoEventGenerator.Options()
        options.seed = seed
        options.entityCount = entities
        options.startMillis = startMillis ?? Int64(Date().timeIntervalSince1970 * 1_000) - Int64(events) * options.stepMillis
        options.malformedFraction = malformedFraction
        options.oversizedPayloadBytes = 200_000
        var generator = DemoEventGenerator(options: options)
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 100_000))
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers), logger: logger)
        var buffer: [UInt8] = []
        var event = DecodedEvent()
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let started = ContinuousClock.now
        for index in 0..<events {
            if let rate, index % 100 == 0 {
                try await ContinuousClock().sleep(until: started + .seconds(Double(index) / rate))
            }
            buffer.removeAll(keepingCapacity: true)
            _ = generator.next(into: &buffer)
            let error = buffer.withUnsafeBytes { decoder.decode($0, nowMillis: now, into: &event) }
            let key = error == nil ? Array(event.entityID.utf8) : nil
            try await producer.produce(KafkaProducerMessage(topic: topic, key: key, value: buffer))
        }
        try await producer.flush(timeoutMillis: 60_000)
        let counts = producer.deliveryCounts
        try await producer.close()
        guard counts.failed == 0 else { throw ValidationError("\(counts.failed) demo events were not acknowledged by Kafka") }
        return counts.delivered
    }
}

/// `sluice produce-demo`: the demo workload, for the worker, benchmarks and tests.
struct ProduceDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce-demo",
        abstract: "Produce demo events (~150-byte JSON, Zipf-distributed entities) to a Kafka topic."
    )

    @Option(help: "Kafka bootstrap servers (default: $SLUICE_KAFKA_BROKERS).")
    var brokers: String?

    @Option(help: "Topic.")
    var topic: String = "transactions"

    @Option(help: "Events to produce.")
    var events: Int = 100_000

    @Option(help: "Distinct entities (Zipf s=1.1).")
    var entities: Int = 100_000

    @Option(help: "Share of malformed events, cycling through every dead-letter reason.")
    var malformedFraction: Double = 0

    @Option(help: "Random seed (the same seed produces the same events).")
    var seed: UInt64?

    @Option(help: "Events per second (default: as fast as possible).")
    var rate: Double?

    @Option(help: "Event time of the first event, this many seconds ago (events are 10 ms apart; default: so the last one is now).")
    var startAgo: Double?

    func run() async throws {
        CommandLogging.bootstrap(level: .warning)
        guard let brokers = brokers ?? ProcessInfo.processInfo.environment["SLUICE_KAFKA_BROKERS"] else {
            throw ValidationError("no Kafka brokers: pass --brokers or set SLUICE_KAFKA_BROKERS")
        }
        var producer = DemoProducer(brokers: brokers, topic: topic, events: events, malformedFraction: malformedFraction)
        producer.entities = entities
        producer.rate = rate
        if let startAgo { producer.startMillis = Int64((Date().timeIntervalSince1970 - startAgo) * 1_000) }
        if let seed { producer.seed = seed }
        let started = ContinuousClock.now
        let delivered = try await producer.run(logger: CommandLogging.logger("sluice.produce-demo"))
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        print("produced \(delivered) events to \(topic) in \(String(format: "%.2f", seconds)) s")
    }
}
