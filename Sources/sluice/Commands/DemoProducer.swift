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
    /// Zipf exponent of entity popularity.
    var zipfExponent = 1.1
    /// Events per second; nil produces as fast as possible.
    var rate: Double? = nil
    /// Event time of the first event, epoch ms; nil spreads the events (10 ms apart) so the last one is now.
    var startMillis: Int64? = nil
    /// librdkafka `linger.ms` of the producer.
    var lingerMillis = 5
    /// How many events may have been sent so far (flow control by a consumer's progress); the producer waits
    /// while it has sent that many. Nil: no limit.
    var credit: (@Sendable () -> Int)? = nil

    /// Produces the events and waits for Kafka's acknowledgements; returns how many were delivered.
    ///
    /// With a `rate`, event `i` is due `i / rate` seconds after the start and is never sent before then: the
    /// producer sends every event that is due, then sleeps until the next one is, for at least 1 ms (a token
    /// bucket whose batch is whatever fell due during the sleep), so it keeps the rate on average without bursts
    /// ahead of schedule; an event waits at most about a millisecond past its due time.
    /// - Parameter sent: called with each event's index and its time on `Measure.hostNanos()`'s clock: the time
    ///   it was due (with a rate: lateness of the producer itself, or waiting for `credit`, counts against the
    ///   pipeline, as a user would see it) or the time it was handed to librdkafka (as fast as possible).
    func run(logger: Logger, sent: (_ index: Int, _ hostNanos: UInt64) -> Void = { _, _ in }) async throws -> Int {
        var options = DemoEventGenerator.Options()
        options.seed = seed
        options.entityCount = entities
        options.zipfExponent = zipfExponent
        options.startMillis = startMillis ?? Int64(Date().timeIntervalSince1970 * 1_000) - Int64(events) * options.stepMillis
        options.malformedFraction = malformedFraction
        options.oversizedPayloadBytes = 200_000
        var generator = DemoEventGenerator(options: options)
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 100_000))
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.lingerMillis = lingerMillis
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        var buffer: [UInt8] = []
        var event = DecodedEvent()
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let started = Measure.hostNanos()
        let nanosPerEvent = rate.map { 1e9 / $0 }
        for index in 0..<events {
            let due = nanosPerEvent.map { started + UInt64(Double(index) * $0) }
            if let due {
                let current = Measure.hostNanos()
                // At most one wake-up per millisecond: a sleep per event would cost more CPU than the event.
                if due > current { try await Task.sleep(nanoseconds: max(due - current, 1_000_000)) }
            }
            if let credit {
                while index >= credit() { try await Task.sleep(for: .milliseconds(1)) }
            }
            sent(index, due ?? Measure.hostNanos())
            buffer.removeAll(keepingCapacity: true)
            let key: [UInt8]?
            if generator.next(into: &buffer) == nil, let id = generator.lastEntityIDRange {
                // A valid event: its entity id is where the generator wrote it (no decode per event).
                key = Array(buffer[id])
            } else {
                // A malformed one is keyed only when the worker's decoder would find its entity (e.g. `late`).
                let error = buffer.withUnsafeBytes { decoder.decode($0, nowMillis: now, into: &event) }
                key = error == nil ? Array(event.entityID.utf8) : nil
            }
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
