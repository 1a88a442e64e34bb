import Foundation
import SluiceConfiguration
import Logging
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import Synchronization

/// The streaming worker: consumes the input topics in the consumer group, decodes and validates events,
/// computes features per entity in event time, and commits each micro-batch — entity features and state,
/// feature-log rows and next offsets — in one PostgreSQL transaction. Bad and late events go to the
/// dead-letter topic (acknowledged by Kafka before the transaction commits).
///
/// On every assignment it claims the partitions in PostgreSQL (bumping their ownership epoch), starts from the
/// offsets stored there and restores entity state lazily from the store; on revocation it commits what it has.
package final class Worker: Sendable {
    /// Counters of what the worker did, for logs, tests and the demo.
    package struct Counters: Sendable, Equatable {
        package var consumed = 0
        package var processed = 0
        package var deadLettered: [String: Int] = [:]
        package var microBatches = 0
        package var fencedBatches = 0
    }

    private let setup: WorkerSetup
    private let store: FeatureStore
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let owner: String
    private let logger: Logger
    private let counters = Mutex(Counters())
    private let stopping = Atomic<Bool>(false)

    /// Creates the worker's Kafka clients; `connection` is the feature store's writer connection (migrated).
    package init(setup: WorkerSetup, connection: PostgresConnection, logger: Logger) throws {
        self.setup = setup
        self.logger = logger
        self.store = try FeatureStore(connection: connection, schema: setup.config.postgres.schema, group: setup.config.kafka.group, logger: logger)
        self.consumer = try KafkaConsumer(configuration: setup.consumerConfiguration, logger: logger)
        self.producer = try KafkaProducer(configuration: setup.producerConfiguration, logger: logger)
        self.owner = "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
    }

    package var counts: Counters { counters.withLock { $0 } }

    /// Stops consuming; `run()` then commits what it holds and returns.
    package func stop() async {
        stopping.store(true, ordering: .releasing)
        await consumer.close()
    }

    /// Runs until `stop()` (or the consumer's end). Throws on an error it cannot recover from; the store then
    /// holds the last committed micro-batch, and a restart continues exactly from there.
    package func run() async throws {
        try consumer.subscribe(topics: setup.config.source.topics)
        var pipeline = Pipeline(setup: setup, logger: logger)
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned(let assignment):
                try await flush(&pipeline)
                let claims = try await store.claim(assignment.partitions.map { ($0.topic, $0.partition) }, owner: owner)
                var offsets: [KafkaTopicPartition: Int64] = [:]
                for claim in claims {
                    let tp = KafkaTopicPartition(topic: claim.topic, partition: claim.partition)
                    pipeline.assign(tp, epoch: claim.epoch, maxEventTimeMillis: claim.maxEventTimeMillis)
                    if let next = claim.nextOffset { offsets[tp] = next }
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(assignment.partitions)", "resume": "\(offsets)"])
                assignment.start(at: offsets)
            case .partitionsRevoked(let revocation):
                try await flush(&pipeline)
                pipeline.revoke(revocation.partitions)
                logger.info("partitions revoked", metadata: ["partitions": "\(revocation.partitions)"])
                revocation.done()
            case .error(let error):
                logger.warning("kafka consumer error", metadata: ["error": "\(error)"])
            case .messages(let batch):
                counters.withLock { $0.consumed += batch.count }
                try await pipeline.process(batch, store: store)
                let caughtUp = batch.count < setup.config.kafka.consumer.pollBatchSize
                if pipeline.pendingCount >= setup.config.flush.maxEvents || caughtUp || pipeline.pendingAgeMillis >= setup.maxIntervalMillis {
                    try await flush(&pipeline)
                }
            }
        }
        try await flush(&pipeline)
        try await producer.flush(timeoutMillis: 10_000)
        try await producer.close()
        logger.info("worker stopped", metadata: ["counters": "\(counts)"])
    }

    /// Dead letters first (acknowledged by Kafka), then one transaction for the rest. A fenced batch (its
    /// partitions were claimed by another worker) is dropped with its partitions' cached state.
    private func flush(_ pipeline: inout Pipeline) async throws {
        guard pipeline.pendingCount > 0 else { return }
        var pending = pipeline.takePending()
        if !pending.deadLetters.isEmpty {
            _ = try await producer.sendBatch(pending.deadLetters)
        }
        pending.batch.entities = pipeline.entityWrites(for: pending.dirtyEntities)
        var attempt = 0
        while true {
            do {
                try await store.commit(pending.batch, featureSet: setup.featureSet)
                break
            } catch let error as FeatureStoreError where error.code == .fenced {
                logger.error("micro-batch fenced: another worker owns its partitions now", metadata: ["error": "\(error)"])
                pipeline.revoke(pending.batch.offsets.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })
                counters.withLock { $0.fencedBatches += 1 }
                return
            } catch let error as PostgresError where error.code == .connectionLost || error.code == .connectionFailed {
                // Nothing of the batch committed; its rows are still in memory, so retrying is exact.
                attempt += 1
                guard attempt <= 8 else { throw error }
                logger.warning("feature store unreachable; retrying the micro-batch", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(min(5_000, 100 << attempt)))
            }
        }
        let offsets = pending.batch.offsets.map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.nextOffset) }
        // Informational copy for lag tools; PostgreSQL's offsets are the ones the worker resumes from.
        try? await consumer.commit(offsets, synchronously: false)
        counters.withLock { counters in
            counters.processed += pending.batch.logRows.count
            counters.microBatches += 1
            for (reason, count) in pending.reasons { counters.deadLettered[reason, default: 0] += count }
        }
    }
}
