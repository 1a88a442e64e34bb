import ArgumentParser
import Foundation
import Logging
import SluiceKafka

/// `sluice bench pipeline-probe` (hidden): the latency probe of `bench pipeline`, a consumer of the predictions topic
/// in a process of its own. Notes when the prediction of each event (by the index in its `event_id`, `e-<index>`)
/// first arrives, on the host's monotonic clock; prints `ready` once it has its partitions, and at the end (every
/// event seen, or SIGTERM) writes the times to a file and a one-line JSON summary to standard output.
struct PipelineProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-probe",
        abstract: "The latency probe process of `sluice bench pipeline`.",
        shouldDisplay: false
    )

    @Option(help: "Kafka bootstrap servers.")
    var brokers: String

    @Option(help: "Predictions topic.")
    var topic: String

    @Option(help: "Consumer group.")
    var group: String

    @Option(help: "Events whose predictions to wait for.")
    var events: Int

    @Option(help: "File for the arrival times (8 bytes per event, host monotonic nanoseconds, 0 = not seen).")
    var times: String

    @Option(help: "librdkafka fetch.wait.max.ms, in milliseconds.")
    var fetchWaitMs: Int = 5

    struct Summary: Codable {
        var received: Int
        var duplicates: Int
        var unknown: Int
        var cpuSeconds: Double
    }

    func run() async throws {
        CommandLogging.bootstrap(level: .warning)
        let logger = CommandLogging.logger("sluice.bench.probe")
        let signals = TerminationSignals()
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: group)
        configuration.offsetReset = .earliest
        // A poll returns as soon as one prediction has arrived (taking whatever else is fetched with it), so the
        // timeout only bounds how long an idle poll waits. The probe ignores idle polls: a long timeout spares it a
        // wake-up (and an idle event) per millisecond without holding any prediction back.
        configuration.pollTimeoutMillis = 100
        configuration.pollBatchSize = 1_000
        configuration.properties["fetch.wait.max.ms"] = String(fetchWaitMs)
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [topic])
        let stopping = Task {
            _ = await signals.wait()
            await consumer.close()
        }
        var arrivals = [UInt64](repeating: 0, count: events)
        var received = 0
        var duplicates = 0
        var unknown = 0
        var ready = false
        loop: for await event in consumer.events {
            switch event {
            case .messages(let batch):
                let now = Measure.hostNanos()
                for message in batch {
                    guard let index = message.withUnsafeValue(Self.eventIndex), index < events else {
                        unknown += 1
                        continue
                    }
                    if arrivals[index] == 0 {
                        arrivals[index] = now
                        received += 1
                    } else {
                        duplicates += 1
                    }
                }
                if received == events { break loop }
            case .partitionsAssigned(let assignment):
                assignment.start()
                if !ready {
                    ready = true
                    FileHandle.standardOutput.write(Data("ready\n".utf8))
                }
            case .partitionsRevoked(let revocation):
                revocation.done()
            case .error(let error):
                logger.warning("probe consumer error", metadata: ["error": "\(error)"])
            case .idle:
                break
            }
        }
        stopping.cancel()
        await consumer.close()
        try EventTimesFile.write(arrivals, to: times)
        let summary = Summary(received: received, duplicates: duplicates, unknown: unknown, cpuSeconds: Measure.cpuSeconds())
        print(String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))
    }

    /// The index in a prediction's `"event_id":"e-<digits>"` (the demo generator's event number).
    static func eventIndex(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let pattern: StaticString = #""event_id":"e-"#
        let length = pattern.utf8CodeUnitCount
        let needle = UnsafeRawBufferPointer(start: pattern.utf8Start, count: length)
        guard bytes.count > length else { return nil }
        var start = 0
        while start + length <= bytes.count {
            if bytes[start] == needle[0], memcmp(bytes.baseAddress! + start, needle.baseAddress!, length) == 0 { break }
            start += 1
        }
        var position = start + length
        guard position < bytes.count else { return nil }
        var value = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= 48, bytes[position] <= 57 {
            value = value * 10 + Int(bytes[position] - 48)
            digits += 1
            position += 1
        }
        return digits > 0 ? value : nil
    }
}
