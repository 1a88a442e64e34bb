import Foundation
import Logging
import Metrics
import SluiceConfiguration
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import Synchronization

/// Consumes the labels topic (its own consumer group, `<kafka.group>.labels`) and joins each label to the logged
/// prediction it names — the features exactly as they were when the event was scored, the score and the model
/// version — into `labelled`.
///
/// - A label whose prediction is not logged (yet) is retried `labels.retry.attempts` times, `labels.retry.backoff`
///   apart, then dead-lettered with reason `prediction_not_found`; one that arrives more than `labels.horizon`
///   after its prediction's event time is dead-lettered with reason `beyond_horizon`; malformed ones at once.
/// - Offsets live in PostgreSQL (`consumer_offsets`, ownership epochs as for the event topics) and are written in
///   the join's transaction. They never pass a label whose fate is open (waiting for a retry, or a dead letter
///   not yet acknowledged), so a restart re-reads it. Re-joining a label is idempotent: per prediction the label
///   with the latest `(label_time, offset)` wins.
/// - Joined labels feed a ``ConceptMonitor``: `concept_drift` alerts go to the alerts topic and `drift_alerts`,
///   rolling metrics to `performance_reports`.
package final class LabelJoiner: Sendable {
    /// What the joiner did, for logs, tests and the demo.
    package struct Counters: Sendable, Equatable {
        package var consumed = 0
        package var joined = 0
        package var retried = 0
        package var deadLettered: [String: Int] = [:]
        package var transactions = 0
        package var conceptAlerts: [String: Int] = [:]
        package var performanceReports = 0
    }

    /// A label whose fate is open.
    private struct Item: Sendable {
        var label: LabelStore.Label
        var key: [UInt8]?
        var value: [UInt8]
        var attempts = 0
        var due: ContinuousClock.Instant
    }

    private let setup: WorkerSetup
    private let offsetsStore: FeatureStore
    private let store: LabelStore
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let owner: String
    private let deadLetterTopic: String
    private let logger: Logger
    private let counters = Mutex(Counters())
    private let monitor: Mutex<ConceptMonitor>
    private let snapshots = Mutex<AlertSnapshots?>(nil)

    /// The labels consumer group of a worker group.
    package static func group(of workerGroup: String) -> String { workerGroup + ".labels" }

    /// - Parameter connection: a migrated connection of its own (the joiner's transactions run on it).
    package init(setup: WorkerSetup, connection: PostgresConnection, logger: Logger, monitor: ConceptMonitor = ConceptMonitor()) throws {
        self.setup = setup
        self.logger = logger
        let group = Self.group(of: setup.config.kafka.group)
        self.offsetsStore = try FeatureStore(connection: connection, reader: nil, schema: setup.config.postgres.schema, group: group, logger: logger)
        self.store = try LabelStore(connection: connection, schema: setup.config.postgres.schema, group: group)
        var consumerConfiguration = setup.consumerConfiguration
        consumerConfiguration.groupID = group
        self.consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        self.producer = try KafkaProducer(configuration: setup.producerConfiguration, logger: logger)
        self.deadLetterTopic = setup.deadLetterTopic(for: setup.config.outputs.labelsTopic)
        self.owner = "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/labels/\(UUID().uuidString.prefix(8))"
        self.monitor = Mutex(monitor)
    }

    package var counts: Counters { counters.withLock { $0 } }

    /// Where firing concept-drift alerts ask for a labelled snapshot (`snapshots.on_alert`).
    package func setAlertSnapshots(_ alertSnapshots: AlertSnapshots?) {
        snapshots.withLock { $0 = alertSnapshots }
    }

    /// Stops consuming; `run()` then settles what it can and returns.
    package func stop() async {
        await consumer.close()
    }

    /// The state of the consume loop (owned by `run`).
    private struct Loop {
        var epochs: [KafkaTopicPartition: Int64] = [:]
        /// Next offset to read per partition (one past the last consumed).
        var next: [KafkaTopicPartition: Int64] = [:]
        /// Offsets last stored in PostgreSQL.
        var stored: [KafkaTopicPartition: Int64] = [:]
        var waiting: [Item] = []
        var fresh: [Item] = []
        var refused: [KafkaProducerMessage] = []
        var refusedReasons: [String: Int] = [:]
    }

    /// Runs until `stop()`. Throws on an error it cannot recover from; a restart continues from the stored offsets.
    package func run() async throws {
        let labelsTopic = setup.config.outputs.labelsTopic
        try consumer.subscribe(topics: [labelsTopic])
        let decoder = LabelDecoder(maxPayloadBytes: setup.config.source.maxPayloadBytes)
        var loop = Loop()
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned(let assignment):
                try await step(&loop, force: true)
                let claims = try await StoreRetry.run("the label partition claim", logger: logger) {
                    try await offsetsStore.claim(assignment.partitions.map { ($0.topic, $0.partition) }, owner: owner)
                }
                var start: [KafkaTopicPartition: Int64] = [:]
                for claim in claims {
                    let tp = KafkaTopicPartition(topic: claim.topic, partition: claim.partition)
                    loop.epochs[tp] = claim.epoch
                    if let next = claim.nextOffset { start[tp] = next; loop.stored[tp] = next }
                }
                logger.info("label partitions assigned", metadata: ["partitions": "\(assignment.partitions)", "resume": "\(start)"])
                assignment.start(at: start)
            case .partitionsRevoked(let revocation):
                try await step(&loop, force: true)
                forget(revocation.partitions, &loop)
                revocation.done()
            case .error(let error):
                logger.warning("kafka consumer error (labels)", metadata: ["error": "\(error)"])
            case .idle:
                try await step(&loop, force: false)
            case .messages(let batch):
                counters.withLock { $0.consumed += batch.count }
                Counter(label: WorkerMetrics.Name.labelsConsumed).increment(by: batch.count)
                let now = ContinuousClock.now
                for message in batch {
                    let tp = message.topicPartition
                    guard loop.epochs[tp] != nil else { continue }
                    loop.next[tp] = message.offset + 1
                    switch decoder.decode(message.value, timestampMillis: message.timestampMillis) {
                    case .success(let decoded):
                        loop.fresh.append(Item(
                            label: LabelStore.Label(key: decoded.key, label: decoded.label, labelTimeMillis: decoded.labelTimeMillis,
                                                    topic: message.topic, partition: message.partition, offset: message.offset),
                            key: message.key.map(Array.init), value: Array(message.value), due: now))
                    case .failure(let failure):
                        loop.refused.append(DeadLetter.message(to: deadLetterTopic, from: message, reason: failure.reason.rawValue, description: failure.description,
                                                                       maxMessageBytes: setup.config.kafka.producer.maxMessageBytes))
                        loop.refusedReasons[failure.reason.rawValue, default: 0] += 1
                    }
                }
                try await step(&loop, force: false)
            }
        }
        try await step(&loop, force: true)
        try await producer.flush(timeoutMillis: 10_000)
        try await producer.close()
        logger.info("label joiner stopped", metadata: ["counters": "\(counts)"])
    }

    /// Dead-letters refused labels (acknowledged before anything else), joins the new labels and the waiting ones
    /// that are due, stores the offsets that pass no open label, and dead-letters the labels the join refused.
    private func step(_ loop: inout Loop, force: Bool) async throws {
        let now = ContinuousClock.now
        if !loop.refused.isEmpty {
            _ = try await producer.sendBatch(loop.refused)
            let reasons = loop.refusedReasons
            counters.withLock { for (reason, count) in reasons { $0.deadLettered[reason, default: 0] += count } }
            WorkerMetrics.labelsDeadLettered(reasons)
            loop.refused = []
            loop.refusedReasons = [:]
        }
        let due = loop.waiting.filter { $0.due <= now } + loop.fresh
        loop.waiting.removeAll { $0.due <= now }
        loop.fresh = []
        let offsets = offsetWrites(loop, open: loop.waiting + due)
        guard !due.isEmpty || !offsets.isEmpty else { return }
        let outcome: LabelStore.Outcome
        do {
            // A join is safe to repeat: labelled rows are keyed by prediction id and the offsets are absolute.
            outcome = try await StoreRetry.run("the label join", logger: logger) {
                try await store.join(due.map(\.label), horizonMillis: WorkerSetup.millis(setup.config.labels.horizon), offsets: offsets)
            }
        } catch let error as FeatureStoreError where error.code == .fenced {
            // Another worker owns some of these partitions now: drop everything open; the owner re-reads it.
            logger.error("label join fenced: another worker owns the label partitions now", metadata: ["error": "\(error)"])
            forget(Array(loop.epochs.keys), &loop)
            return
        }
        for write in offsets { loop.stored[KafkaTopicPartition(topic: write.topic, partition: write.partition)] = write.nextOffset }
        var refused: [KafkaProducerMessage] = []
        var reasons: [String: Int] = [:]
        func refuse(_ item: Item, _ reason: LabelDecoder.Reason, _ text: String) {
            refused.append(DeadLetter.message(to: deadLetterTopic, key: item.key, value: item.value, sourceTopic: item.label.topic,
                                              partition: item.label.partition, offset: item.label.offset, reason: reason.rawValue, description: text,
                                              maxMessageBytes: setup.config.kafka.producer.maxMessageBytes))
            reasons[reason.rawValue, default: 0] += 1
        }
        var retried = 0
        for index in outcome.notFound {
            var item = due[index]
            item.attempts += 1
            if item.attempts > setup.config.labels.retryAttempts {
                refuse(item, .predictionNotFound, "no logged prediction \(Self.describe(item.label.key)) after \(item.attempts) lookups \(setup.config.labels.retryBackoff) apart; expected the prediction of an event this worker scored")
            } else {
                item.due = now + setup.config.labels.retryBackoff
                loop.waiting.append(item)
                retried += 1
            }
        }
        for (index, match) in outcome.beyondHorizon {
            let item = due[index]
            refuse(item, .beyondHorizon, "label time \(formatRFC3339(millis: item.label.labelTimeMillis)) is more than the horizon \(setup.config.labels.horizon) after its prediction's event time \(formatRFC3339(millis: match.eventTimeMillis))")
        }
        let observations = outcome.joined.compactMap { index, match -> ConceptMonitor.Observation? in
            guard let name = match.modelName, let version = match.modelVersion, let score = match.score else { return nil }
            return ConceptMonitor.Observation(modelName: name, modelVersion: Int(version), label: due[index].label.label, score: score,
                                              eventTimeMillis: match.eventTimeMillis)
        }
        let concept = monitor.withLock { $0.observe(observations) }
        // The refused labels are open until Kafka has them; the next step's offsets pass them.
        if !refused.isEmpty { _ = try await producer.sendBatch(refused) }
        if !concept.alerts.isEmpty {
            let topic = setup.config.outputs.alertsTopic
            _ = try await producer.sendBatch(concept.alerts.map { KafkaProducerMessage(topic: topic, key: Array($0.modelName.utf8), value: $0.messageJSON) })
            for alert in concept.alerts {
                logger.warning("concept drift alert", metadata: ["state": "\(alert.state)", "model": "\(alert.modelName)", "version": "\(alert.modelVersion)",
                                                               "error": "\(alert.statistic)", "before": "\(alert.threshold)", "severity": "\(alert.severity)"])
            }
        }
        try await StoreRetry.run("the concept-drift records", logger: logger) {
            try await store.record(alerts: concept.alerts, performance: concept.performance)
        }
        if let alertSnapshots = snapshots.withLock({ $0 }) {
            for alert in concept.alerts where alert.state == "firing" {
                await alertSnapshots.alertFired(alertID: alert.alertID, modelName: alert.modelName, windowStartMillis: alert.windowStartMillis)
            }
        }
        let joined = outcome.joined.count
        Counter(label: WorkerMetrics.Name.labelsJoined).increment(by: joined)
        WorkerMetrics.labelsDeadLettered(reasons)
        for alert in concept.alerts { Counter(label: WorkerMetrics.Name.driftAlerts, dimensions: [("kind", alert.kind), ("state", alert.state), ("severity", alert.severity)]).increment() }
        counters.withLock { counters in
            counters.joined += joined
            counters.retried += retried
            counters.transactions += 1
            counters.performanceReports += concept.performance.count
            for (reason, count) in reasons { counters.deadLettered[reason, default: 0] += count }
            for alert in concept.alerts { counters.conceptAlerts[alert.state, default: 0] += 1 }
        }
        if force, !refused.isEmpty {
            // Settle the offsets past the labels just dead-lettered before a rebalance or stop.
            try await step(&loop, force: false)
        }
    }

    /// The offsets to store: per assigned partition, the smallest offset of an open label, else the next to read;
    /// only those that changed since they were last stored.
    private func offsetWrites(_ loop: Loop, open: [Item]) -> [FeatureStoreBatch.OffsetWrite] {
        var lowest: [KafkaTopicPartition: Int64] = [:]
        for item in open {
            let tp = KafkaTopicPartition(topic: item.label.topic, partition: item.label.partition)
            lowest[tp] = min(lowest[tp] ?? .max, item.label.offset)
        }
        return loop.next.compactMap { tp, next in
            guard let epoch = loop.epochs[tp] else { return nil }
            let offset = lowest[tp] ?? next
            guard loop.stored[tp] != offset else { return nil }
            return FeatureStoreBatch.OffsetWrite(topic: tp.topic, partition: tp.partition, nextOffset: offset, maxEventTimeMillis: nil, epoch: epoch)
        }
    }

    private func forget(_ partitions: [KafkaTopicPartition], _ loop: inout Loop) {
        let gone = Set(partitions)
        for tp in gone {
            loop.epochs[tp] = nil
            loop.next[tp] = nil
            loop.stored[tp] = nil
        }
        loop.waiting.removeAll { gone.contains(KafkaTopicPartition(topic: $0.label.topic, partition: $0.label.partition)) }
        loop.fresh.removeAll { gone.contains(KafkaTopicPartition(topic: $0.label.topic, partition: $0.label.partition)) }
    }

    private static func describe(_ key: LabelStore.Key) -> String {
        switch key {
        case .prediction(let topic, let partition, let offset): "prediction_id \(topic)/\(partition)/\(offset)"
        case .event(let id): "event_id \(id)"
        }
    }
}
