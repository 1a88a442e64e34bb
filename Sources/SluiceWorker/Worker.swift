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
        /// Wall-clock nanoseconds spent per stage: decode + features, dead-letter acknowledgements, entity state
        /// serialization, and the PostgreSQL transaction.
        package var processNanos: UInt64 = 0
        package var deadLetterNanos: UInt64 = 0
        package var serializeNanos: UInt64 = 0
        package var commitNanos: UInt64 = 0
    }

    private let setup: WorkerSetup
    private let store: FeatureStore
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let owner: String
    private let logger: Logger
    private let counters = Mutex(Counters())
    /// Partitions whose last commit was fenced; the consumer loop drops their cached state.
    private let fencedPartitions = Mutex<[KafkaTopicPartition]>([])

    /// Creates the worker's Kafka clients; `connection` is the feature store's writer connection (migrated),
    /// `reader` a second connection for state restores: they run while the previous micro-batch's transaction
    /// is in flight on `connection`, so the two must differ.
    package init(setup: WorkerSetup, connection: PostgresConnection, reader: PostgresConnection, logger: Logger) throws {
        precondition(connection !== reader, "the worker needs separate writer and reader connections")
        self.setup = setup
        self.logger = logger
        self.store = try FeatureStore(connection: connection, reader: reader, schema: setup.config.postgres.schema, group: setup.config.kafka.group, logger: logger)
        self.consumer = try KafkaConsumer(configuration: setup.consumerConfiguration, logger: logger)
        self.producer = try KafkaProducer(configuration: setup.producerConfiguration, logger: logger)
        self.owner = "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
    }

    package var counts: Counters { counters.withLock { $0 } }

    /// Stops consuming; `run()` then commits what it holds and returns.
    package func stop() async {
        await consumer.close()
    }

    /// Runs until `stop()` (or the consumer's end). Throws on an error it cannot recover from; the store then
    /// holds the last committed micro-batch, and a restart continues exactly from there.
    package func run() async throws {
        if !setup.config.postgres.synchronousCommit {
            try await store.setAsynchronousCommit()
        }
        try consumer.subscribe(topics: setup.config.source.topics)
        var pipeline = Pipeline(setup: setup, logger: logger)
        // At most one micro-batch commits while the next is being decoded and featurized; commits stay in order.
        var inFlight: Task<Void, any Error>? = nil
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned(let assignment):
                try await flush(&pipeline, inFlight: &inFlight)
                try await inFlight?.value
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
                try await flush(&pipeline, inFlight: &inFlight)
                try await inFlight?.value
                pipeline.revoke(revocation.partitions)
                logger.info("partitions revoked", metadata: ["partitions": "\(revocation.partitions)"])
                revocation.done()
            case .error(let error):
                logger.warning("kafka consumer error", metadata: ["error": "\(error)"])
            case .idle:
                // The stream is quiet: commit what is pending rather than wait for more events.
                try await flush(&pipeline, inFlight: &inFlight)
            case .messages(let batch):
                counters.withLock { $0.consumed += batch.count }
                let started = DispatchTime.now().uptimeNanoseconds
                try await pipeline.process(batch, store: store)
                let elapsed = DispatchTime.now().uptimeNanoseconds - started
                counters.withLock { $0.processNanos += elapsed }
                let caughtUp = batch.count < setup.config.kafka.consumer.pollBatchSize
                if pipeline.pendingCount >= setup.config.flush.maxEvents || caughtUp || pipeline.pendingAgeMillis >= setup.maxIntervalMillis {
                    try await flush(&pipeline, inFlight: &inFlight)
                }
            }
        }
        try await flush(&pipeline, inFlight: &inFlight)
        try await inFlight?.value
        try await producer.flush(timeoutMillis: 10_000)
        try await producer.close()
        logger.info("worker stopped", metadata: ["counters": "\(counts)"])
    }

    /// Dead letters first (acknowledged by Kafka), then one transaction for the rest, started in the background
    /// once the previous micro-batch's transaction has finished. A fenced batch (its partitions were claimed by
    /// another worker) is dropped with its partitions' cached state.
    private func flush(_ pipeline: inout Pipeline, inFlight: inout Task<Void, any Error>?) async throws {
        guard pipeline.pendingCount > 0 else { return }
        var pending = pipeline.takePending()
        let t0 = DispatchTime.now().uptimeNanoseconds
        if !pending.deadLetters.isEmpty {
            _ = try await producer.sendBatch(pending.deadLetters)
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        pending.batch.entities = pipeline.entityWrites(for: pending.dirtyEntities)
        let t2 = DispatchTime.now().uptimeNanoseconds
        // The previous transaction must be done (and not fenced) before this one starts.
        try await inFlight?.value
        inFlight = nil
        if let fenced = fencedPartitions.withLock({ partitions -> [KafkaTopicPartition]? in
            defer { partitions = [] }
            return partitions.isEmpty ? nil : partitions
        }) {
            pipeline.revoke(fenced)
            pending.batch.entities.removeAll { entity in fenced.contains { $0.topic == entity.topic && $0.partition == entity.partition } }
            pending.batch.logRows.removeAll { row in fenced.contains { $0.topic == row.topic && $0.partition == row.partition } }
            pending.batch.offsets.removeAll { offset in fenced.contains { $0.topic == offset.topic && $0.partition == offset.partition } }
        }
        let batch = pending.batch
        let reasons = pending.reasons
        inFlight = Task { [self] in
            try await commit(batch, reasons: reasons, deadLetterNanos: t1 - t0, serializeNanos: t2 - t1)
        }
    }

    private func commit(_ batch: FeatureStoreBatch, reasons: [String: Int], deadLetterNanos: UInt64, serializeNanos: UInt64) async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        var attempt = 0
        while true {
            do {
                try await store.commit(batch, featureSet: setup.featureSet)
                break
            } catch let error as FeatureStoreError where error.code == .fenced {
                logger.error("micro-batch fenced: another worker owns its partitions now", metadata: ["error": "\(error)"])
                fencedPartitions.withLock { $0 += batch.offsets.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) } }
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
        let offsets = batch.offsets.map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.nextOffset) }
        // Informational copy for lag tools; PostgreSQL's offsets are the ones the worker resumes from.
        try? await consumer.commit(offsets, synchronously: false)
        let finished = DispatchTime.now().uptimeNanoseconds
        counters.withLock { counters in
            counters.deadLetterNanos += deadLetterNanos
            counters.serializeNanos += serializeNanos
            counters.commitNanos += finished - started
            counters.processed += batch.logRows.count
            counters.microBatches += 1
            for (reason, count) in reasons { counters.deadLettered[reason, default: 0] += count }
        }
    }
}
