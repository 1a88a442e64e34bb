import CoreMetrics
import Dispatch
import Metrics
import SluiceKafka
import SluiceSnapshots

/// The worker's metrics, through swift-metrics (exported as Prometheus text by `GET /metrics`). Names are listed
/// in the README's metrics table; labels are only low-cardinality values (topic, partition, reason, model,
/// version, feature, test).
///
/// Handles are made when the worker is made, so a worker made after `MetricsSystem.bootstrap` reports to the
/// bootstrapped backend. Labelled handles are looked up per micro-batch, never per event.
package struct WorkerMetrics: Sendable {
    package enum Name {
        package static let consumed = "sluice_events_consumed_total"
        package static let processed = "sluice_events_processed_total"
        package static let deadLettered = "sluice_events_dead_lettered_total"
        package static let lag = "sluice_consumer_lag"
        package static let microBatchEvents = "sluice_microbatch_events"
        package static let flushDuration = "sluice_flush_duration_seconds"
        package static let endToEndLatency = "sluice_end_to_end_latency_seconds"
        package static let scoringDuration = "sluice_scoring_duration_seconds"
        package static let predictions = "sluice_predictions_total"
        package static let modelVersion = "sluice_model_version"
        package static let driftStatistic = "sluice_drift_statistic"
        package static let driftAlerts = "sluice_drift_alerts_total"
        package static let fencedBatches = "sluice_fenced_batches_total"
        package static let labelsConsumed = "sluice_labels_consumed_total"
        package static let labelsJoined = "sluice_labels_joined_total"
        package static let labelsDeadLettered = "sluice_labels_dead_lettered_total"
        package static let snapshotRows = SnapshotService.rowsMetric
        package static let snapshots = SnapshotService.snapshotsMetric
        package static let paused = "sluice_paused"
        package static let cachedEntities = "sluice_entity_cache_entities"
        package static let cacheMisses = "sluice_entity_cache_misses_total"
        package static let skippedLookups = "sluice_entity_lookups_skipped_total"
        package static let knownKeys = "sluice_entity_key_filter_keys"
        package static let cacheEvictions = "sluice_entity_cache_evictions_total"
        package static let ready = "sluice_ready"
    }

    private let processed = Counter(label: Name.processed)
    private let microBatchEvents = Recorder(label: Name.microBatchEvents, aggregate: true)
    private let flushDuration = Metrics.Timer(label: Name.flushDuration)
    private let endToEndLatency = Metrics.Timer(label: Name.endToEndLatency)
    private let scoringDuration = Metrics.Timer(label: Name.scoringDuration)
    private let fenced = Counter(label: Name.fencedBatches)

    package init() {
        Gauge(label: Name.paused).record(0)
    }

    func paused(_ paused: Bool) {
        Gauge(label: Name.paused).record(paused ? 1 : 0)
    }

    /// The entity cache after a flush: its size, the misses (entities not in memory), the misses the key filter
    /// answered without a lookup (new entities), evictions, and the keys in the filter.
    func entityCache(entities: Int, misses: Int, skippedLookups: Int, evicted: Int, knownKeys: Int) {
        Gauge(label: Name.cachedEntities).record(entities)
        Gauge(label: Name.knownKeys).record(knownKeys)
        if misses > 0 { Counter(label: Name.cacheMisses).increment(by: misses) }
        if skippedLookups > 0 { Counter(label: Name.skippedLookups).increment(by: skippedLookups) }
        if evicted > 0 { Counter(label: Name.cacheEvictions).increment(by: evicted) }
    }

    func consumed(_ batch: KafkaMessageBatch) {
        for (topic, count) in batch.countsByTopic() { Counter(label: Name.consumed, dimensions: [("topic", topic)]).increment(by: count) }
    }

    /// A committed micro-batch: its events, dead letters by reason and the transaction's duration.
    func committed(events: Int, reasons: [String: Int], flushNanos: UInt64) {
        processed.increment(by: events)
        for (reason, count) in reasons {
            Counter(label: Name.deadLettered, dimensions: [("reason", reason)]).increment(by: count)
        }
        microBatchEvents.record(events + reasons.values.reduce(0, +))
        flushDuration.recordNanoseconds(Int64(clamping: flushNanos))
    }

    func scored(model: String, version: Int, predictions: Int, nanos: UInt64) {
        guard predictions > 0 else { return }
        Counter(label: Name.predictions, dimensions: [("model", model), ("version", String(version))]).increment(by: predictions)
        scoringDuration.recordNanoseconds(Int64(clamping: nanos))
    }

    /// Each event's time from its poll batch's arrival to Kafka acknowledging its prediction.
    func delivered(consumedAt: [(nanos: UInt64, events: Int)], acknowledgedAt: UInt64) {
        for (nanos, events) in consumedAt {
            let latency = Int64(clamping: acknowledgedAt &- nanos)
            for _ in 0..<events { endToEndLatency.recordNanoseconds(latency) }
        }
    }

    func lag(_ partition: KafkaTopicPartition, messages: Int64) {
        Gauge(label: Name.lag, dimensions: [("topic", partition.topic), ("partition", String(partition.partition))]).record(max(0, messages))
    }

    static func labelsDeadLettered(_ reasons: [String: Int]) {
        for (reason, count) in reasons {
            Counter(label: Name.labelsDeadLettered, dimensions: [("reason", reason)]).increment(by: count)
        }
    }

    func fencedBatch() { fenced.increment() }

    /// The versions serving now; a role without a model reports 0.
    func serving(production: (name: String, version: Int)?, shadow: (name: String, version: Int)?, modelName: String?) {
        for (role, model) in [("production", production), ("shadow", shadow)] {
            guard let name = model?.name ?? modelName else { continue }
            Gauge(label: Name.modelVersion, dimensions: [("model", name), ("role", role)]).record(model?.version ?? 0)
        }
    }

    func drift(model: String, results: [(feature: String, test: String, statistic: Double)]) {
        for result in results where result.statistic.isFinite {
            Gauge(label: Name.driftStatistic, dimensions: [("model", model), ("feature", result.feature), ("test", result.test)]).record(result.statistic)
        }
    }

    func alert(kind: String, state: String, severity: String) {
        Counter(label: Name.driftAlerts, dimensions: [("kind", kind), ("state", state), ("severity", severity)]).increment()
    }
}
