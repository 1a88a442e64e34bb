import ArgumentParser
import Foundation
import Logging
import SluiceFeatures
import SluiceKafka
import Synchronization

/// `sluice produce-demo-labels`: ground truth for the demo's predictions, so the whole loop can be shown on the
/// embedded default. It reads the predictions topic (its own consumer group, offsets committed to Kafka, so each
/// run labels only what the previous one had not) and produces one label per prediction to the labels topic.
struct DemoLabelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce-demo-labels",
        abstract: "Produce demo labels for the predictions on a topic (the demo's ground truth).",
        discussion: """
            Concepts: 'agree' labels each prediction with the model's own class (score ≥ 0.5) — the world the model \
            was made for; 'amount' labels it 1 when the event's amount exceeds --threshold — a changed world (concept \
            drift). --noise flips that share of labels at random. Stops after --idle seconds without a new prediction.
            """
    )

    enum Concept: String, ExpressibleByArgument, CaseIterable {
        case agree, amount
    }

    @Option(help: "Kafka bootstrap servers (default: $SLUICE_KAFKA_BROKERS).")
    var brokers: String?

    @Option(help: "Predictions topic to read.")
    var predictions: String = "predictions"

    @Option(help: "Labels topic to write.")
    var topic: String = "labels"

    @Option(help: "Consumer group (its committed offsets mark what was labelled).")
    var group: String = "sluice-demo-labeller"

    @Option(help: "How labels relate to the prediction: agree | amount.")
    var concept: Concept = .agree

    @Option(help: "Amount above which the 'amount' concept labels 1.")
    var threshold: Double = 33

    @Option(help: "Share of labels flipped at random.")
    var noise: Double = 0.05

    @Option(help: "Stop after this many seconds without a new prediction (once one has been read).")
    var idle: Double = 3

    @Option(help: "Give up after this many seconds when no prediction arrives at all.")
    var timeout: Double = 120

    @Option(help: "Random seed.")
    var seed: UInt64?

    private struct Prediction: Decodable {
        var prediction_id: String
        var score: Double?
        var features: [String: Number]?
    }

    /// A feature value: its number, or nil for strings and nulls.
    private struct Number: Decodable {
        var value: Double?
        init(from decoder: any Decoder) throws { value = try? decoder.singleValueContainer().decode(Double.self) }
    }

    func run() async throws {
        CommandLogging.bootstrap(level: .warning)
        let logger = CommandLogging.logger("sluice.produce-demo-labels")
        guard let brokers = brokers ?? ProcessInfo.processInfo.environment["SLUICE_KAFKA_BROKERS"] else {
            throw ValidationError("no Kafka brokers: pass --brokers or set SLUICE_KAFKA_BROKERS")
        }
        guard (0...1).contains(noise) else { throw ValidationError("--noise \(noise) is outside 0…1") }
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: group), logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers), logger: logger)
        try consumer.subscribe(topics: [predictions])
        var random = DemoRandomGenerator(seed: seed ?? UInt64.random(in: 0..<UInt64.max))
        let started = ContinuousClock.now
        var last: ContinuousClock.Instant?
        var labelled = 0, positives = 0, skipped = 0
        var next: [KafkaTopicPartition: Int64] = [:]
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned(let assignment): assignment.start()
            case .partitionsRevoked(let revocation): revocation.done()
            case .error(let error): logger.warning("kafka consumer error", metadata: ["error": "\(error)"])
            case .idle: break
            case .messages(let batch):
                var labels: [KafkaProducerMessage] = []
                for message in batch {
                    next[message.topicPartition] = message.offset + 1
                    guard let p = try? JSONDecoder().decode(Prediction.self, from: Data(message.value)), let score = p.score else { skipped += 1; continue }
                    var label: Bool
                    switch concept {
                    case .agree: label = score >= 0.5
                    case .amount:
                        guard let amount = p.features?["amount"]?.value else { skipped += 1; continue }
                        label = amount > threshold
                    }
                    if random.nextUnit() < noise { label.toggle() }
                    if label { positives += 1 }
                    labels.append(KafkaProducerMessage(topic: topic, key: Array(p.prediction_id.utf8),
                                                       value: Array(#"{"prediction_id":"\#(p.prediction_id)","label":\#(label ? 1 : 0)}"#.utf8)))
                }
                _ = try await producer.sendBatch(labels)
                labelled += labels.count
                try await consumer.commit(next.map { KafkaTopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) })
                last = ContinuousClock.now
            }
            let now = ContinuousClock.now
            if let last, now - last >= .seconds(idle) { break }
            if last == nil, now - started >= .seconds(timeout) { break }
        }
        await consumer.close()
        try await producer.close()
        print("labelled \(labelled) predictions from \(predictions) to \(topic) (concept \(concept.rawValue), \(positives) positive, noise \(noise))\(skipped > 0 ? ", skipped \(skipped) without a score" : "")")
    }
}
