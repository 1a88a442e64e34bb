import Foundation
import SluiceConfiguration
import Logging
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluiceMonitoring
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
        /// Micro-batches scored and published (several may commit in one transaction: group commit).
        package var scoredBatches = 0
        package var fencedBatches = 0
        /// Wall-clock nanoseconds spent per stage: decode + features, entity state serialization, and the
        /// PostgreSQL transaction (scoring and acknowledgements below).
        package var processNanos: UInt64 = 0
        package var serializeNanos: UInt64 = 0
        package var commitNanos: UInt64 = 0
        /// Entity states serialized for transactions: each touched entity once per transaction, however many of
        /// its micro-batches touched it.
        package var serializedStates = 0
        /// Predictions published (acknowledged by Kafka and committed with their micro-batch).
        package var predicted = 0
        /// Wall-clock nanoseconds spent scoring (all cores).
        package var scoreNanos: UInt64 = 0
        /// Wall-clock nanoseconds transactions waited for Kafka's acknowledgements before COMMIT (part of
        /// `commitNanos`: the statements run while the acknowledgements arrive).
        package var acknowledgeNanos: UInt64 = 0
        /// Model versions that have scored micro-batches, in the order they took over.
        package var modelVersions: [Int] = []
        /// Drift-window evaluations, and alerts by state (`firing`, `resolved`).
        package var driftEvaluations = 0
        package var driftAlerts: [String: Int] = [:]
        /// Entities not in the cache (their states were looked up in the store, or the key filter knew them new),
        /// and dropped from the cache.
        package var cacheMisses = 0
        /// Cache misses the key filter answered without a lookup in the store (`state.new_entity_filter`).
        package var skippedLookups = 0
        package var cacheEvictions = 0
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
    /// The models that score the next micro-batch; replaced whole by `setModels` (hot swap).
    private let models = Mutex(ScoringModels())
    /// Stores a drift reference built from live events with its model version (the registry).
    private let referenceSink = Mutex<(@Sendable (String, Int, ReferenceProfile) async -> Void)?>(nil)
    /// Where firing drift alerts ask for a labelled snapshot (`snapshots.on_alert`).
    private let snapshots = Mutex<AlertSnapshots?>(nil)
    private let metrics = WorkerMetrics()
    /// The group has answered this member at least once (an assignment, possibly empty), and the partitions
    /// it holds now: for readiness.
    private let membership = Mutex<(joined: Bool, partitions: [KafkaTopicPartition])>((false, []))

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

    /// Replaces the scoring models; the next micro-batch is scored by them (a batch never mixes versions).
    package func setModels(_ new: ScoringModels) {
        models.withLock { $0 = new }
        metrics.serving(production: new.champion.map { ($0.name, $0.version) }, shadow: new.challenger.map { ($0.name, $0.version) },
                        modelName: new.champion?.name ?? new.challenger?.name)
    }

    /// Whether the consumer has joined the group and been answered with an assignment, and the partitions it
    /// holds now.
    package var membershipState: (joined: Bool, partitions: [KafkaTopicPartition]) { membership.withLock { $0 } }

    /// Stops fetching without leaving the group (`POST /v1/pause`): the partitions stay assigned to this worker,
    /// pending work is committed as usual, and nothing new is consumed until `resume()`.
    package func pause() throws {
        try consumer.pauseAll()
        metrics.paused(true)
        logger.notice("consumption paused; the worker stays in the group")
    }

    /// Restarts consumption paused by `pause()` from where it stopped.
    package func resume() throws {
        try consumer.resumeAll()
        metrics.paused(false)
        logger.notice("consumption resumed")
    }

    /// Whether consumption is paused.
    package var isPaused: Bool { consumer.isPaused }

    /// Events consumed and not yet committed (or dead-lettered): what a forced stop now would leave for the next
    /// start to consume again.
    package var uncommittedEvents: Int {
        let counts = self.counts
        return counts.consumed - counts.processed - counts.deadLettered.values.reduce(0, +)
    }

    /// Where drift references built from live events go (the registry stores them with the model version).
    package func setReferenceSink(_ sink: @escaping @Sendable (_ model: String, _ version: Int, _ profile: ReferenceProfile) async -> Void) {
        referenceSink.withLock { $0 = sink }
    }

    /// Where firing drift alerts ask for a labelled snapshot (`snapshots.on_alert`).
    package func setAlertSnapshots(_ alertSnapshots: AlertSnapshots?) {
        snapshots.withLock { $0 = alertSnapshots }
    }

    /// The models that score the next micro-batch.
    package var currentModels: ScoringModels { models.withLock { $0 } }

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
        // The output topics' metadata is read now: the first message to a topic would otherwise wait for it
        // (about 0.9 s on the dev cluster) and hold up the commits behind it.
        let outputs = [setup.config.outputs.predictionsTopic, setup.config.outputs.alertsTopic]
            + setup.config.source.topics.map { setup.deadLetterTopic(for: $0) }
        let unprepared = await producer.prepare(topics: outputs, timeoutMillis: 2_000)
        if !unprepared.isEmpty {
            logger.warning("could not read the metadata of output topics; their first messages will wait for it",
                           metadata: ["topics": "\(unprepared.keys.sorted())", "error": "\(unprepared.values.first!)"])
        }
        try consumer.subscribe(topics: setup.config.source.topics)
        var pipeline = Pipeline(setup: setup, logger: logger)
        var queue = CommitQueue()
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned(let assignment):
                try await flush(&pipeline, &queue, commit: .everything)
                queue.fenced.removeAll()
                let claims = try await StoreRetry.run("the partition claim", logger: logger) {
                    try await store.claim(assignment.partitions.map { ($0.topic, $0.partition) }, owner: owner)
                }
                var offsets: [KafkaTopicPartition: Int64] = [:]
                for claim in claims {
                    let tp = KafkaTopicPartition(topic: claim.topic, partition: claim.partition)
                    pipeline.assign(tp, epoch: claim.epoch, maxEventTimeMillis: claim.maxEventTimeMillis)
                    if let next = claim.nextOffset { offsets[tp] = next }
                }
                if pipeline.filtersNewEntities {
                    try await readStoredKeys(claims.map { ($0.topic, $0.partition) }, into: &pipeline)
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(assignment.partitions)", "resume": "\(offsets)"])
                assignment.start(at: offsets)
                membership.withLock { $0 = (true, Array(Set($0.partitions + assignment.partitions)).sorted()) }
            case .partitionsRevoked(let revocation):
                try await flush(&pipeline, &queue, commit: .everything)
                pipeline.revoke(revocation.partitions)
                membership.withLock { $0.partitions.removeAll { revocation.partitions.contains($0) } }
                logger.info("partitions revoked", metadata: ["partitions": "\(revocation.partitions)"])
                revocation.done()
            case .error(let error):
                logger.warning("kafka consumer error", metadata: ["error": "\(error)"])
            case .idle:
                // The stream is quiet: publish and commit what is pending rather than wait for more events.
                try await flush(&pipeline, &queue, commit: .whenReady)
            case .messages(let batch):
                counters.withLock { $0.consumed += batch.count }
                metrics.consumed(batch)
                let started = DispatchTime.now().uptimeNanoseconds
                try await pipeline.process(batch, store: store)
                let fenced = pipeline.takeFenced()
                if !fenced.isEmpty {
                    // The next flush drops their pending rows, predictions, dead letters and offsets.
                    fencedPartitions.withLock { $0 += fenced }
                    counters.withLock { $0.fencedBatches += 1 }
                    metrics.fencedBatch()
                }
                let elapsed = DispatchTime.now().uptimeNanoseconds - started
                counters.withLock { $0.processNanos += elapsed }
                let caughtUp = batch.count < setup.config.kafka.consumer.pollBatchSize
                // A transaction that is due closes the open micro-batch too: it starts on a micro-batch boundary, so
                // the entity rows it writes are serialized once for all its batches (`Pipeline.takeEntityWrites`).
                if pipeline.pendingCount >= setup.config.flush.maxEvents || caughtUp || pipeline.pendingAgeMillis >= setup.maxIntervalMillis
                    || isReady(queue, opening: true) {
                    try await flush(&pipeline, &queue, commit: .whenReady)
                }
            }
        }
        try await flush(&pipeline, &queue, commit: .everything)
        try await producer.flush(timeoutMillis: 10_000)
        try await producer.close()
        logger.info("worker stopped", metadata: ["counters": "\(counts)"])
    }

    /// A micro-batch that is scored, with its messages queued to Kafka, waiting for its transaction.
    private struct Scored: Sendable {
        var batch: FeatureStoreBatch
        var deliveries: KafkaDeliveries
        var reasons: [String: Int]
        var predicted: Int
        var consumedAt: [(nanos: UInt64, events: Int)]
        var scoreNanos: UInt64
        var generation: UInt64
        var events: Int
    }

    /// The consume loop's micro-batches between scoring and commit. At most one transaction is in flight; the
    /// batches scored meanwhile wait and then commit together in the next one (group commit), which starts no
    /// sooner than `flush.commit_interval` after the last one unless a whole micro-batch waits.
    private struct CommitQueue {
        var waiting: [Scored] = []
        var inFlight: Task<Void, any Error>? = nil
        /// Set by the in-flight transaction's task when it ends (committed, fenced or failed).
        let inFlightEnded = EndFlag()
        /// Partitions another worker has claimed since: their events are neither published nor committed.
        var fenced: Set<KafkaTopicPartition> = []

        /// When the last transaction started (`DispatchTime` nanoseconds); nil before the first.
        var lastStartNanos: UInt64? = nil

        var waitingEvents: Int { waiting.reduce(0) { $0 + $1.events } }

        /// Whether batches wait (or `opening`: the open micro-batch will), no transaction is in flight, and either
        /// `interval` has passed since the last one started or a whole micro-batch (`maxEvents`) waits.
        func isReady(interval: UInt64, maxEvents: Int, opening: Bool = false) -> Bool {
            guard !waiting.isEmpty || opening, inFlightEnded.value.withLock({ $0 }) else { return false }
            guard let lastStartNanos else { return true }
            return DispatchTime.now().uptimeNanoseconds &- lastStartNanos >= interval || waitingEvents >= maxEvents
        }
    }

    private final class EndFlag: Sendable {
        let value = Mutex(true)
    }

    private enum CommitMode {
        /// Start a transaction if none is in flight, or if too much waits (then after the one in flight).
        case whenReady
        /// Commit everything and wait for it (rebalance, stop).
        case everything
    }

    /// Scores the pending micro-batch (all cores, one model version for the whole batch), queues its dead
    /// letters and predictions to Kafka at once, and puts it in the commit queue. Then starts a transaction for
    /// the waiting batches as `mode` says.
    private func flush(_ pipeline: inout Pipeline, _ queue: inout CommitQueue, commit mode: CommitMode) async throws {
        if pipeline.pendingCount > 0 {
            let scored = await publish(&pipeline, &queue)
            queue.waiting.append(scored)
        }
        switch mode {
        case .whenReady:
            // Backpressure: past twice a micro-batch waiting, the loop waits for the transaction in flight.
            if isReady(queue) || queue.waitingEvents >= 2 * setup.config.flush.maxEvents {
                try await startCommit(&pipeline, &queue)
            }
        case .everything:
            try await startCommit(&pipeline, &queue)
            try await queue.inFlight?.value
            queue.inFlight = nil
        }
    }

    /// `opening`: count the open micro-batch as waiting (it is closed if a transaction is ready).
    private func isReady(_ queue: CommitQueue, opening: Bool = false) -> Bool {
        queue.isReady(interval: setup.commitIntervalNanos, maxEvents: setup.config.flush.maxEvents, opening: opening)
    }

    /// Takes the pending micro-batch, scores it, feeds the drift monitor, queues its messages to Kafka and encodes
    /// its feature-log rows; its transaction comes later (`startCommit`), which serializes the states it touched.
    private func publish(_ pipeline: inout Pipeline, _ queue: inout CommitQueue) async -> Scored {
        var pending = pipeline.takePending()
        counters.withLock { $0.scoredBatches += 1 }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let scored = score(&pending)
        var predictions = scored.messages
        var alerts: [KafkaProducerMessage] = []
        if let champion = scored.champion {
            alerts = monitor(&pipeline, &pending, champion: champion, scores: scored.scores)
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        takeFences(&pipeline, &queue)
        let fenced = queue.fenced
        if !fenced.isEmpty {
            predictions.removeAll { fenced.contains(KafkaTopicPartition(topic: $0.topic, partition: $0.partition)) }
            pending.deadLetters.removeAll { message in
                message.headers.first { $0.name == "sluice.source.topic" }.map { topic in
                    fenced.contains(KafkaTopicPartition(
                        topic: String(decoding: topic.value ?? [], as: UTF8.self),
                        partition: Int32(String(decoding: message.headers.first { $0.name == "sluice.source.partition" }?.value ?? [], as: UTF8.self)) ?? -1))
                } ?? false
            }
        }
        // Dead letters and predictions go out now, in order; the transaction that starts later (and serializes the
        // touched states) waits for their acknowledgements.
        let deliveries = await producer.enqueueBatch(pending.deadLetters + predictions.map(\.message) + alerts)
        if !fenced.isEmpty { Self.dropFenced(&pending.batch, fenced) }
        // The log rows' COPY data is encoded here, while the previous transaction runs, not inside this batch's
        // (where the server would wait for it). Should it fail, the transaction encodes them and reports the error.
        try? pending.batch.encodeLogRows()
        if let champion = scored.champion {
            metrics.scored(model: champion.name, version: champion.version, predictions: predictions.count, nanos: t1 - t0)
            let consumedAt = pending.consumedAt
            Task { [metrics] in
                // End-to-end latency: from the poll that brought each event to its prediction's acknowledgement.
                if (try? await deliveries.settled()) != nil {
                    metrics.delivered(consumedAt: consumedAt, acknowledgedAt: DispatchTime.now().uptimeNanoseconds)
                }
            }
        }
        return Scored(batch: pending.batch, deliveries: deliveries, reasons: pending.reasons, predicted: predictions.count,
                      consumedAt: pending.consumedAt, scoreNanos: t1 - t0, generation: pending.generation,
                      events: pending.count)
    }

    /// Moves the partitions fenced by the last transaction into the queue's set and drops their cached state.
    private func takeFences(_ pipeline: inout Pipeline, _ queue: inout CommitQueue) {
        let new = fencedPartitions.withLock { partitions in
            defer { partitions = [] }
            return partitions
        }
        guard !new.isEmpty else { return }
        pipeline.revoke(new)
        queue.fenced.formUnion(new)
    }

    private static func dropFenced(_ batch: inout FeatureStoreBatch, _ fenced: Set<KafkaTopicPartition>) {
        func isFenced(_ topic: String, _ partition: Int32) -> Bool { fenced.contains(KafkaTopicPartition(topic: topic, partition: partition)) }
        batch.entities.removeAll { isFenced($0.topic, $0.partition) }
        batch.logRows.removeAll { isFenced($0.topic, $0.partition) }
        batch.offsets.removeAll { isFenced($0.topic, $0.partition) }
    }

    /// Reads the keys the store holds for newly claimed partitions into the pipeline's key filter. After the claim:
    /// no earlier owner can commit for them any more, so no key is missed.
    private func readStoredKeys(_ partitions: [(topic: String, partition: Int32)], into pipeline: inout Pipeline) async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        // A retry adds the keys again: harmless, the filter only answers "maybe" for them.
        let count = try await StoreRetry.run("the entity key scan", logger: logger) {
            try await store.storedEntityKeys(partitions: partitions) { pipeline.addStoredKeys($0) }
        }
        let size = pipeline.knownKeysSize
        logger.info("entity key filter loaded", metadata: [
            "stored_keys": "\(count)", "filter_keys": "\(size.keys)", "filter_bytes": "\(size.bytes)",
            "millis": "\((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)"])
    }

    /// Starts one transaction for every waiting batch, once the one in flight has finished (and rethrows its
    /// error). The transaction waits for Kafka to acknowledge the batches' messages before COMMIT (`commit`), so
    /// a committed offset always means its predictions and dead letters were delivered.
    private func startCommit(_ pipeline: inout Pipeline, _ queue: inout CommitQueue) async throws {
        guard !queue.waiting.isEmpty else { return }
        // The waiting batches are every batch taken since the last transaction started and the open one is empty
        // (callers flush first), so these are exactly the entity rows of their events. Serialized before the wait
        // for the transaction in flight, which they do not depend on.
        let serializing = DispatchTime.now().uptimeNanoseconds
        let entityWrites = pipeline.takeEntityWrites()
        let serializeNanos = DispatchTime.now().uptimeNanoseconds - serializing
        counters.withLock { $0.serializedStates += entityWrites.count }
        try await queue.inFlight?.value
        queue.inFlight = nil
        // Every batch before the waiting ones has committed: entities only they touched can leave the cache.
        let evicted = pipeline.evictColdEntities(keepingFrom: queue.waiting[0].generation)
        let misses = pipeline.takeCacheMisses()
        metrics.entityCache(entities: pipeline.cachedEntities, misses: misses.misses, skippedLookups: misses.skippedLookups,
                            evicted: evicted, knownKeys: pipeline.knownKeysSize.keys)
        counters.withLock { counters in
            counters.cacheMisses += misses.misses
            counters.skippedLookups += misses.skippedLookups
            counters.cacheEvictions += evicted
        }
        takeFences(&pipeline, &queue)
        var waiting = queue.waiting
        queue.waiting = []
        let deliveries = waiting.map(\.deliveries)
        let predicted = waiting.reduce(0) { $0 + $1.predicted }
        let scoreNanos = waiting.reduce(0) { $0 + $1.scoreNanos }
        // The batches are moved out of `waiting`, not copied: the merged batch is then the only owner of its rows,
        // so appending to it copies nothing twice and the rows are freed as soon as the transaction is done.
        var batch = FeatureStoreBatch()
        swap(&batch, &waiting[0].batch)
        var reasons = waiting[0].reasons
        var later: [FeatureStoreBatch] = []
        later.reserveCapacity(waiting.count - 1)
        for index in waiting.indices.dropFirst() {
            later.append(FeatureStoreBatch())
            swap(&later[later.count - 1], &waiting[index].batch)
            reasons.merge(waiting[index].reasons, uniquingKeysWith: +)
        }
        batch.append(contentsOf: later)
        batch.entities = entityWrites
        if !queue.fenced.isEmpty { Self.dropFenced(&batch, queue.fenced) }
        let ended = queue.inFlightEnded
        ended.value.withLock { $0 = false }
        queue.lastStartNanos = DispatchTime.now().uptimeNanoseconds
        queue.inFlight = Task { [self, batch, reasons] in
            defer { ended.value.withLock { $0 = true } }
            try await commit(batch, deliveries: deliveries, reasons: reasons, predicted: predicted, scoreNanos: scoreNanos,
                             serializeNanos: serializeNanos)
        }
    }

    /// A prediction message and the partition whose event it scored.
    private struct PredictionMessage {
        var topic: String
        var partition: Int32
        var message: KafkaProducerMessage
    }

    /// Feeds the scored batch to the drift monitor; returns the alert messages for the drift-alerts topic and
    /// puts its reports and alerts into the batch's transaction.
    private func monitor(_ pipeline: inout Pipeline, _ pending: inout Pipeline.Pending, champion: ScoringModel, scores: [Double]) -> [KafkaProducerMessage] {
        let outcome = pipeline.drift.observe(model: champion, reference: champion.reference, rows: pending.rows, strings: pending.strings,
                                             scores: scores, eventTimes: pending.batch.logRows.map(\.eventTimeMillis))
        for warning in outcome.warnings {
            logger.warning("drift monitor", metadata: ["model": "\(champion.name)", "version": "\(champion.version)", "problem": "\(warning)"])
        }
        if let reference = outcome.reference {
            logger.info("drift reference built from live events", metadata: ["model": "\(champion.name)", "version": "\(champion.version)", "events": "\(reference.events)"])
            if let sink = referenceSink.withLock({ $0 }) {
                Task { await sink(champion.name, champion.version, reference) }
            }
        }
        for report in outcome.reports {
            pending.batch.driftReports.append(FeatureStoreBatch.DriftReportWrite(
                modelName: report.modelName, modelVersion: Int32(report.modelVersion), windowStartMillis: report.windowStartMillis,
                windowEndMillis: report.windowEndMillis, windowEvents: Int64(report.evaluation.events), referenceSource: report.referenceSource,
                referenceEvents: Int64(report.referenceEvents), driftedFeatures: Int32(report.evaluation.driftedFeatures),
                totalFeatures: Int32(report.evaluation.features.count), datasetDrift: report.evaluation.datasetDrifted,
                resultsJSON: DriftMonitor.resultsJSON(report.evaluation)))
        }
        let topic = setup.config.outputs.alertsTopic
        var messages: [KafkaProducerMessage] = []
        for report in outcome.reports {
            metrics.drift(model: report.modelName, results: report.evaluation.features.map { ($0.feature, $0.result.test.rawValue, $0.result.statistic) })
        }
        for alert in outcome.alerts {
            metrics.alert(kind: alert.kind, state: alert.state, severity: alert.severity)
            pending.batch.driftAlerts.append(FeatureStoreBatch.DriftAlertWrite(
                alertID: alert.alertID, kind: alert.kind, state: alert.state, severity: alert.severity, modelName: alert.modelName,
                modelVersion: Int32(alert.modelVersion), feature: alert.feature, test: alert.result.test.rawValue, statistic: alert.result.statistic,
                threshold: alert.result.threshold, pValue: alert.result.pValue, windowStartMillis: alert.windowStartMillis,
                windowEndMillis: alert.windowEndMillis, windowEvents: Int64(alert.windowEvents), messageJSON: alert.message))
            messages.append(KafkaProducerMessage(topic: topic, key: Array(alert.modelName.utf8), value: alert.message))
            logger.warning("drift alert", metadata: ["state": "\(alert.state)", "feature": "\(alert.feature ?? "-")", "test": "\(alert.result.test.rawValue)",
                                                   "statistic": "\(alert.result.statistic)", "severity": "\(alert.severity)"])
        }
        let firing = outcome.alerts.filter { $0.state == "firing" }
        if !firing.isEmpty, let alertSnapshots = snapshots.withLock({ $0 }) {
            Task {
                for alert in firing {
                    await alertSnapshots.alertFired(alertID: alert.alertID, modelName: alert.modelName, windowStartMillis: alert.windowStartMillis)
                }
            }
        }
        counters.withLock { counters in
            counters.driftEvaluations += outcome.reports.count
            for alert in outcome.alerts { counters.driftAlerts[alert.state, default: 0] += 1 }
        }
        return messages
    }

    /// Scores the micro-batch's log rows with the current models and records each prediction on its log row.
    /// Returns the prediction messages, the model that scored the batch and one score per row (the
    /// probability, value, or for multiclass models the largest class probability).
    private func score(_ pending: inout Pipeline.Pending) -> (messages: [PredictionMessage], champion: ScoringModel?, scores: [Double]) {
        let current = models.withLock { $0 }
        // Rows are read and updated in place: a copy of `logRows` held across the loop would make the first
        // update copy the whole array.
        let rowCount = pending.batch.logRows.count
        guard let champion = current.champion, rowCount > 0 else { return ([], nil, []) }
        let width = setup.featureNames.count
        let scores = BatchScorer.score(rows: pending.rows, width: width, rowCount: rowCount, with: champion,
                                         explainTopK: setup.config.model.explainTopK, exact: setup.config.model.explainMethod == .treeshap)
        let challenger = current.challenger.map { BatchScorer.score(rows: pending.rows, width: width, rowCount: rowCount, with: $0, explainTopK: 0) }
        let scoredAt = Int64(Date().timeIntervalSince1970 * 1_000)
        let topic = setup.config.outputs.predictionsTopic
        var encoder = PredictionEncoder(scoredAtMillis: scoredAt, champion: champion, challenger: challenger?.model)
        // Rows read through the buffer are borrowed: a `let row = logRows[index]` would retain and release each
        // of the row's references.
        pending.batch.logRows.withUnsafeBufferPointer { rows in
            for index in 0..<rowCount {
                encoder.append(rows[index], champion: scores, challenger: challenger, row: index)
                // Room for the rest, judged from the first message.
                if index == 0 { encoder.reserve((rowCount - 1) * (encoder.byteCount + 64)) }
            }
        }
        let encoded = encoder.takeMessages()
        var messages: [PredictionMessage] = []
        messages.reserveCapacity(rowCount)
        pending.batch.logRows.withUnsafeBufferPointer { rows in
            for index in 0..<rowCount {
                messages.append(PredictionMessage(topic: rows[index].topic, partition: rows[index].partition, message: KafkaProducerMessage(
                    topic: topic, keyBytes: encoded[2 * index], valueBytes: encoded[2 * index + 1])))
            }
        }
        for index in 0..<rowCount {
            let output = scores.output(row: index)
            pending.batch.logRows[index].prediction = FeatureStoreBatch.Prediction(
                modelName: champion.name, modelVersion: Int32(champion.version),
                score: output.count == 1 ? output.first : nil, scores: output.count == 1 ? nil : Array(output),
                explanationJSON: encoder.explanationJSON(scores, row: index),
                challengerVersion: challenger.map { Int32($0.model.version) },
                challengerScore: challenger.flatMap { $0.model.isScalar ? $0.output(row: index).first : nil })
        }
        counters.withLock { counters in
            if counters.modelVersions.last != champion.version { counters.modelVersions.append(champion.version) }
        }
        let perRow = champion.isScalar ? scores.outputs : (0..<rowCount).map { scores.output(row: $0).max() ?? .nan }
        return (messages, champion, perRow)
    }

    /// Commits the merged micro-batches. The transaction's statements run while Kafka acknowledges the batches'
    /// messages; COMMIT waits for every acknowledgement (`beforeCommit`), so a committed offset always means its
    /// predictions and dead letters were delivered, and a failed delivery rolls the transaction back.
    private func commit(_ batch: FeatureStoreBatch, deliveries: [KafkaDeliveries], reasons: [String: Int], predicted: Int, scoreNanos: UInt64,
                        serializeNanos: UInt64) async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        var acknowledgeNanos: UInt64 = 0
        func acknowledged() async throws {
            let waiting = DispatchTime.now().uptimeNanoseconds
            for delivery in deliveries { try await delivery.settled() }
            acknowledgeNanos += DispatchTime.now().uptimeNanoseconds - waiting
        }
        do {
            // The batch's rows are still in memory, so a retry is exact, unless the connection failed after the server
            // had committed (the answer to COMMIT was lost): a retry first checks the stored offsets for that. A retry
            // waits for the acknowledgements before it opens its transaction (the server may have ended the first
            // one for idling while they were late).
            var tried = false
            try await StoreRetry.run("the micro-batch", logger: logger) {
                if tried {
                    try await acknowledged()
                    if try await store.isCommitted(batch) {
                        logger.notice("the micro-batch had committed before the connection failed; not writing it again")
                        return
                    }
                }
                tried = true
                try await store.commit(batch, featureSet: setup.featureSet, beforeCommit: acknowledged)
            }
        } catch let error as FeatureStoreError where error.code == .fenced {
            logger.error("micro-batch fenced: another worker owns its partitions now", metadata: ["error": "\(error)"])
            fencedPartitions.withLock { $0 += batch.offsets.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) } }
            counters.withLock { $0.fencedBatches += 1 }
            metrics.fencedBatch()
            return
        }
        let offsets = batch.offsets.map { KafkaTopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.nextOffset) }
        // Informational copy for lag tools; PostgreSQL's offsets are the ones the worker resumes from.
        try? await consumer.commit(offsets, synchronously: false)
        let finished = DispatchTime.now().uptimeNanoseconds
        metrics.committed(events: batch.logRows.count, reasons: reasons, flushNanos: finished - started)
        for offset in offsets {
            if let high = consumer.cachedHighWatermark(offset.topicPartition) { metrics.lag(offset.topicPartition, messages: high - offset.offset) }
        }
        counters.withLock { counters in
            counters.scoreNanos += scoreNanos
            counters.acknowledgeNanos += acknowledgeNanos
            counters.predicted += predicted
            counters.serializeNanos += serializeNanos
            counters.commitNanos += finished - started
            counters.processed += batch.logRows.count
            counters.microBatches += 1
            for (reason, count) in reasons { counters.deadLettered[reason, default: 0] += count }
        }
    }
}
