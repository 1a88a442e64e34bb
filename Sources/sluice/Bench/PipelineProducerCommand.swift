import ArgumentParser
import Foundation
import Logging
import Synchronization

/// `sluice bench pipeline-producer` (hidden): the load of `bench pipeline`, run in a process of its own so its CPU is
/// not the worker's. Produces demo events at a fixed rate or as fast as possible, writes each event's time (due or
/// sent, on the host's monotonic clock) to a file, and ends with a one-line JSON summary on standard output.
struct PipelineProducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-producer",
        abstract: "The producer process of `sluice bench pipeline`.",
        shouldDisplay: false
    )

    @Option(help: "Kafka bootstrap servers.")
    var brokers: String

    @Option(help: "Topic.")
    var topic: String

    @Option(help: "Events to produce.")
    var events: Int

    @Option(help: "Distinct entities.")
    var entities: Int

    @Option(help: "Zipf exponent of entity popularity.")
    var zipf: Double

    @Option(help: "Events per second (default: as fast as possible).")
    var rate: Double?

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "librdkafka linger.ms, in milliseconds.")
    var lingerMs: Int = 5

    @Option(help: "File for the events' times (8 bytes per event, host monotonic nanoseconds).")
    var times: String

    @Flag(help: "Send only as many events as the last number read from standard input (one per line) allows.")
    var creditFromStdin = false

    struct Summary: Codable {
        var delivered: Int
        /// Events per second from the first send to the last.
        var achievedRate: Double
        /// Sent after it was due (fixed rate only): how far the producer itself fell behind its schedule.
        var lateness: LatencyPercentiles?
        var cpuSeconds: Double
        var peakRSSBytes: Int
    }

    func run() async throws {
        CommandLogging.bootstrap(level: .warning)
        var stamps = [UInt64](repeating: 0, count: events)
        var lateness: [UInt64] = []
        if rate != nil { lateness.reserveCapacity(events) }
        var firstSent: UInt64 = 0
        var lastSent: UInt64 = 0
        var producer = DemoProducer(brokers: brokers, topic: topic, events: events, malformedFraction: 0)
        producer.entities = entities
        producer.zipfExponent = zipf
        producer.seed = seed
        producer.rate = rate
        producer.lingerMillis = lingerMs
        if creditFromStdin {
            let credit = StandardInputCredit()
            producer.credit = { credit.value }
        }
        let delivered = try await producer.run(logger: CommandLogging.logger("sluice.bench.producer")) { index, stamp in
            let now = Measure.hostNanos()
            if index == 0 { firstSent = now }
            lastSent = now
            stamps[index] = stamp
            if rate != nil { lateness.append(now > stamp ? now - stamp : 0) }
        }
        try EventTimesFile.write(stamps, to: times)
        let summary = Summary(
            delivered: delivered, achievedRate: lastSent > firstSent ? Double(events - 1) / (Double(lastSent - firstSent) / 1e9) : 0,
            lateness: LatencyPercentiles(nanoseconds: lateness), cpuSeconds: Measure.cpuSeconds(), peakRSSBytes: Measure.peakRSSBytes())
        print(String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))
    }
}

/// A number the parent process raises by writing lines to standard input; read on a thread of its own.
final class StandardInputCredit: Sendable {
    private let current = Atomic<Int>(0)

    init() {
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            while true {
                let data = FileHandle.standardInput.availableData
                if data.isEmpty {
                    // The parent is gone or done: no more limit.
                    self.current.store(.max, ordering: .releasing)
                    return
                }
                pending += data
                while let newline = pending.firstIndex(of: 10) {
                    if let value = Int(String(decoding: pending[..<newline], as: UTF8.self)) {
                        self.current.store(value, ordering: .releasing)
                    }
                    pending.removeSubrange(...newline)
                }
            }
        }
        thread.name = "sluice-bench-credit"
        thread.start()
    }

    var value: Int { current.load(ordering: .acquiring) }
}
