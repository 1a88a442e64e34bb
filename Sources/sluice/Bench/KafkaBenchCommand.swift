import ArgumentParser
import Foundation
import Logging
import SluiceKafka

/// `sluice bench kafka`: produce and consume rates through Sluice's librdkafka layer, next to kcat's on the same
/// cluster and the same data, reported as ratios.
struct KafkaBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce/consume messages/s through Sluice's Kafka layer versus kcat on the same dev cluster."
    )

    @Option(help: "Messages per run.")
    var messages: Int = 200_000

    @Option(help: "Message size in bytes (JSON padded to this size).")
    var size: Int = 150

    @Option(help: "Partitions of the benchmark topics (the dev cluster keeps ~5 MiB per partition).")
    var partitions: Int = 16

    @Option(help: "Use this cluster instead of starting an in-process dev cluster.")
    var bootstrapServers: String?

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        CommandLogging.bootstrap(level: logLevel)
        let logger = CommandLogging.logger("sluice.bench")
        var cluster: DevCluster? = nil
        let servers: String
        if let bootstrapServers {
            servers = bootstrapServers
        } else {
            let dev = try DevCluster(brokers: 1, logger: logger)
            cluster = dev
            servers = dev.bootstrapServers
        }
        let run = UInt64.random(in: 0..<UInt64.max)
        let sluiceTopic = "bench-sluice-\(run)"
        let kcatTopic = "bench-kcat-\(run)"
        if let cluster {
            try cluster.createTopic(sluiceTopic, partitions: partitions)
            try cluster.createTopic(kcatTopic, partitions: partitions)
        } else {
            let admin = try KafkaAdmin(bootstrapServers: servers, logger: logger)
            try await admin.createTopics([KafkaNewTopic(name: sluiceTopic, partitions: partitions), KafkaNewTopic(name: kcatTopic, partitions: partitions)])
        }
        let payloads = (0..<1024).map { Self.payload(index: $0, size: size) }

        // Produce through Sluice: fire-and-forget, then flush, so batching is librdkafka's.
        var producerConfig = KafkaProducerConfiguration(bootstrapServers: servers)
        producerConfig.lingerMillis = 5
        let producer = try KafkaProducer(configuration: producerConfig, logger: logger)
        let produceStart = Measure.now()
        for index in 0..<messages {
            try await producer.produce(KafkaProducerMessage(topic: sluiceTopic, value: payloads[index & 1023]))
        }
        try await producer.flush(timeoutMillis: 120_000)
        let sluiceProduceSeconds = Measure.seconds(since: produceStart)
        let counts = producer.deliveryCounts
        guard counts.delivered == messages else {
            throw ValidationError("Sluice producer delivered \(counts.delivered) of \(messages) (\(counts.failed) failed)")
        }

        // Produce the same data with kcat (idempotent, same linger).
        guard let kcat = Measure.which("kcat") else { throw ValidationError("kcat is not installed (apt-get install kcat)") }
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(run).jsonl").path
        var fileBytes: [UInt8] = []
        fileBytes.reserveCapacity(messages * (size + 1))
        for index in 0..<messages {
            fileBytes += payloads[index & 1023]
            fileBytes.append(10)
        }
        try Data(fileBytes).write(to: URL(fileURLWithPath: inputFile))
        defer { try? FileManager.default.removeItem(atPath: inputFile) }
        let kcatProduce = try Measure.runProcess(kcat, ["-P", "-b", servers, "-t", kcatTopic, "-X", "enable.idempotence=true", "-X", "linger.ms=5", "-l", inputFile])
        guard kcatProduce.status == 0 else { throw ValidationError("kcat -P exited with \(kcatProduce.status)") }
        let admin = try KafkaAdmin(bootstrapServers: servers, logger: logger)
        var stored: Int64 = 0
        for partition in 0..<partitions {
            let (low, high) = try await admin.watermarks(KafkaTopicPartition(topic: kcatTopic, partition: Int32(partition)))
            stored += high - low
        }
        // Both consumers read exactly what the cluster holds (the dev cluster trims partitions past ~5 MiB).
        let toConsume = Int(stored)
        if toConsume != messages {
            logger.warning("the cluster holds fewer messages than kcat produced; consuming what it holds", metadata: ["held": "\(stored)", "produced": "\(messages)"])
        }

        // Consume through Sluice (a fresh group), timing from the first message to the last.
        var consumerConfig = KafkaConsumerConfiguration(bootstrapServers: servers, groupID: "bench-\(run)")
        consumerConfig.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: consumerConfig, logger: logger)
        try consumer.subscribe(topics: [kcatTopic])
        var received = 0
        var firstMessage: UInt64 = 0
        var checksum = 0
        for await event in consumer.events {
            switch event {
            case .messages(let batch):
                if firstMessage == 0 { firstMessage = Measure.now() }
                for message in batch { checksum &+= message.value.count }
                received += batch.count
            case .partitionsAssigned(let assignment):
                logger.info("assigned", metadata: ["partitions": "\(assignment.partitions.count)"])
                assignment.start()
            case .partitionsRevoked(let revocation):
                revocation.done()
            case .error(let error):
                logger.warning("consumer error", metadata: ["error": "\(error)"])
            case .idle:
                break
            }
            if received >= toConsume { break }
        }
        let sluiceConsumeSeconds = Measure.seconds(since: firstMessage)
        await consumer.close()
        guard checksum == toConsume * size else { throw ValidationError("consumed bytes \(checksum) != \(toConsume * size)") }

        // Consume the same topic with kcat, from process start to exit at the end of the partitions.
        let kcatConsume = try Measure.runProcess(kcat, ["-C", "-b", servers, "-t", kcatTopic, "-o", "beginning", "-e", "-q", "-f", "%s\n"])
        guard kcatConsume.status == 0 else { throw ValidationError("kcat -C exited with \(kcatConsume.status)") }

        let result = KafkaBenchResult(
            messages: messages, messageBytes: size, partitions: partitions,
            sluiceProducePerSecond: Double(messages) / sluiceProduceSeconds,
            kcatProducePerSecond: Double(messages) / kcatProduce.seconds,
            sluiceConsumePerSecond: Double(toConsume) / sluiceConsumeSeconds,
            kcatConsumePerSecond: Double(toConsume) / kcatConsume.seconds)
        try await producer.close()
        withExtendedLifetime(cluster) {}
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.table)
        }
    }

    static func payload(index: Int, size: Int) -> [UInt8] {
        var text = "{\"event_id\":\"e-\(index)\",\"user_id\":\"u-\(index % 977)\",\"ts\":\(1_767_225_600_000 + index),\"amount\":\(Double(index % 10_000) / 100),\"pad\":\""
        let closing = "\"}"
        text += String(repeating: "x", count: max(0, size - text.utf8.count - closing.utf8.count)) + closing
        return Array(text.utf8.prefix(size))
    }
}

struct KafkaBenchResult: Codable {
    var messages: Int
    var messageBytes: Int
    var partitions: Int
    var sluiceProducePerSecond: Double
    var kcatProducePerSecond: Double
    var sluiceConsumePerSecond: Double
    var kcatConsumePerSecond: Double

    var table: String {
        func rate(_ value: Double) -> String { String(format: "%10.0f msg/s", value) }
        return """
        kafka bench: \(messages) messages of \(messageBytes) bytes, \(partitions) partitions
          produce  sluice \(rate(sluiceProducePerSecond))   kcat \(rate(kcatProducePerSecond))   ratio \(String(format: "%.2f", sluiceProducePerSecond / kcatProducePerSecond))
          consume  sluice \(rate(sluiceConsumePerSecond))   kcat \(rate(kcatConsumePerSecond))   ratio \(String(format: "%.2f", sluiceConsumePerSecond / kcatConsumePerSecond))
        """
    }
}
