import Foundation

/// One run of `sluice bench pipeline` (one micro-batch size). JSON keys are snake_case: `events_per_sec`,
/// `latency_ms` {`p50`, `p99`, `p999`, …}, `cpu_seconds_per_million`, `peak_rss_bytes`, ….
struct PipelineBenchResult: Codable {
    /// `fixed_rate` (events produced at `target_rate` while the worker runs) or `saturation` (the whole backlog
    /// produced first, then consumed as fast as the worker can).
    var mode: String
    var events: Int
    var entities: Int
    /// Distinct entities the events touched (rows in the store's entities table; the worker caches each one's state).
    var activeEntities: Int
    var zipf: Double
    var partitions: Int
    var microBatch: Int
    var maxIntervalMs: Int
    /// `flush.commit_interval` in milliseconds.
    var commitIntervalMs: Int
    var pollBatchSize: Int
    var model: String?
    /// The configuration file the source, features and drift settings came from; nil: the built-in 10 features.
    var config: String?
    var drift: Bool
    var synchronousCommit: Bool
    /// `state.new_entity_filter`.
    var keyFilter: Bool
    /// The worker's producer compression (`kafka.producer.compression`).
    var compression: String
    /// The rate asked for (fixed rate), events/s.
    var targetRate: Double?
    /// The rate the producer process sent at, from its first event to its last, events/s.
    var inputRate: Double
    /// How late the producer sent events after they were due (fixed rate): its own share of the latency.
    var producerLatenessMs: LatencyPercentiles?
    /// Events committed per second from the first micro-batch's commit until every event was committed.
    var eventsPerSec: Double
    /// The same rate over the first and the second half of that time.
    var eventsPerSecHalves: [Double]?
    /// Seconds since the first commit and events committed then, about once a second.
    var committedProgress: [[Double]]
    /// Fixed rate: the worker kept up (every event committed within a second of the producer process's exit).
    var keptUp: Bool?
    /// Fixed rate: milliseconds from the producer process's exit (after its last send and flush) to the commit
    /// of every event.
    var catchUpMs: Double?
    /// `end_to_end` (fixed rate: due time of the event → its prediction received by a consumer) or `backlog`
    /// (saturation: event sent into a backlog of up to `max_backlog` events → its prediction received).
    var latencyKind: String
    var latencyMs: LatencyPercentiles?
    /// Leading seconds of a fixed-rate run left out of `latency_ms`.
    var warmupSeconds: Double
    /// Most events the producer may have sent ahead of the worker's commits.
    var maxBacklog: Int
    /// Events whose prediction the probe never received (should be 0).
    var missingPredictions: Int
    var predictions: Int
    var deadLettered: Int
    /// Micro-batches (PostgreSQL transactions) the worker committed.
    var microBatches: Int
    /// Micro-batches the worker scored and published; consecutive ones wait and commit together.
    var scoredBatches: Int
    /// Entities not in the worker's cache when an event came, and how many of them the key filter knew to be
    /// new (`state.new_entity_filter`): the others cost a state lookup in PostgreSQL.
    var entityCacheMisses: Int
    var entityLookupsSkipped: Int
    /// The worker's process CPU (user + system) per million events, from its start to the last commit.
    var cpuSecondsPerMillion: Double
    /// CPU seconds per million events of each process: `worker`, `postgres_worker_backends` (the worker's two
    /// connections), `postgres_other` (WAL writer, checkpointer, autovacuum, …), `kafka_dev_cluster` (the broker),
    /// `producer` and `probe` (the load and the measurement; whole process lifetimes).
    var cpuSecondsPerMillionByProcess: [String: Double]
    /// Worker + PostgreSQL + Kafka broker per million events: what the pipeline itself costs.
    var pipelineCPUSecondsPerMillion: Double
    /// The events/s the host's cores could sustain at that cost (cores ÷ pipeline CPU per event).
    var cpuBoundEventsPerSec: Double
    var cores: Int
    /// The worker process's peak resident set size during the run (`VmHWM`, reset at the start).
    var peakRSSBytes: Int
    /// Wall seconds per worker stage (`decode_features`, `score` (with the drift monitor), `serialize_state` in the
    /// consume loop; `postgres_commit` in the background, overlapping the next micro-batch, and `kafka_acks`, the part of
    /// it spent waiting for Kafka's acknowledgements before COMMIT).
    var stageSeconds: [String: Double]
    /// Wall seconds of the worker, from its start to the last commit.
    var wallSeconds: Double
    var bound: PostgresBound.Result?
    /// With `--bound-parts`: the feature-log rows alone and the entity upserts alone, replayed the same way.
    var boundParts: [PostgresBound.Result]?
    /// `events_per_sec` ÷ the PostgreSQL bound's rows/s.
    var ratioToBound: Double?
    /// How much of a core the worker's writer backend used during the run (events/s × its CPU per event) and
    /// the bound's backend during the replay (rows/s × its CPU per row), and their quotient: the ratio to the bound
    /// had PostgreSQL needed the same CPU per row in both. The host's speed often changes between the run and the
    /// replay 20–30 s later, which moves `ratio_to_bound` both ways; this quotient does not move with it. It also
    /// leaves out PostgreSQL running slower per row beside the other processes (shared caches), which
    /// `ratio_to_bound` includes.
    var postgresCoresRun: Double?
    var postgresCoresBound: Double?
    var ratioAtBoundCPU: Double?
    /// The host's load averages (1, 5, 15 min) when the run started: other work competing for the cores.
    var loadAverage: [Double]

    /// The human-readable report.
    var text: String {
        func rate(_ value: Double) -> String { String(format: "%.0f", value) }
        func cpu(_ key: String) -> String { cpuSecondsPerMillionByProcess[key].map { String(format: "%.1f", $0) } ?? "n/a" }
        var lines: [String] = []
        let modeText = targetRate.map { "fixed rate \(rate($0)) events/s" } ?? "saturation"
        lines.append("pipeline bench (\(modeText)): \(events) events, \(entities) entities (Zipf \(zipf)), \(partitions) partitions, "
                     + "flush.max_events \(microBatch), flush.max_interval \(maxIntervalMs) ms, flush.commit_interval \(commitIntervalMs) ms, poll_batch_size \(pollBatchSize), model \(model ?? "none"), drift \(drift ? "on" : "off"), "
                     + "synchronous_commit \(synchronousCommit ? "on" : "off"), key filter \(keyFilter ? "on" : "off"), compression \(compression), features \(config ?? "built-in (10)"); load average \(loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " "))")
        var input = "  input            \(rate(inputRate)) events/s sent by the producer process"
        if let lateness = producerLatenessMs { input += " (sent after due: p99 \(String(format: "%.2f", lateness.p99)) ms, max \(String(format: "%.1f", lateness.max)) ms)" }
        lines.append(input)
        var sustained = "  sustained        \(rate(eventsPerSec)) events/s committed (first commit → every event committed)"
        if let halves = eventsPerSecHalves, halves.count == 2 { sustained += "; first half \(rate(halves[0])), second half \(rate(halves[1]))" }
        if let keptUp, let catchUpMs { sustained += "; kept up: \(keptUp ? "yes" : "NO") (all committed \(String(format: "%.0f", catchUpMs)) ms after the producer exited)" }
        lines.append(sustained)
        if let latencyMs {
            let label = latencyKind == "backlog" ? "backlog latency" : "latency        "
            let what = latencyKind == "backlog" ? "event sent into a backlog of up to \(maxBacklog) events → prediction received: queueing, not a latency figure"
                : "event due → prediction received, \(latencyMs.count) events" + (warmupSeconds > 0 ? " after a \(warmupSeconds) s warm-up" : "")
            lines.append("  \(label)  \(latencyMs.text)  (\(what))")
        }
        if missingPredictions > 0 { lines.append("  MISSING          \(missingPredictions) predictions never reached the probe") }
        lines.append("  CPU s/M events   worker \(cpu("worker")), PostgreSQL \(cpu("postgres_worker_backends")) (worker's backends) + \(cpu("postgres_other")) (other), "
                     + "Kafka broker \(cpu("kafka_dev_cluster")) → pipeline \(String(format: "%.1f", pipelineCPUSecondsPerMillion)) "
                     + "(\(cores) cores: \(rate(cpuBoundEventsPerSec)) events/s at most); producer \(cpu("producer")), probe \(cpu("probe"))")
        lines.append("  micro-batches    \(scoredBatches) scored (\(scoredBatches > 0 ? events / scoredBatches : 0) events each on average), committed in \(microBatches) transactions (\(microBatches > 0 ? events / microBatches : 0) events each)")
        lines.append("  peak RSS         \(peakRSSBytes / 1_048_576) MiB (worker process), \(activeEntities) active entities; "
                     + "\(entityCacheMisses) cache misses, \(entityCacheMisses - entityLookupsSkipped) of them looked up in PostgreSQL")
        let loop = ["decode_features", "score", "serialize_state"].reduce(0.0) { $0 + (stageSeconds[$1] ?? 0) }
        func stage(_ key: String, _ label: String) -> String {
            let seconds = stageSeconds[key] ?? 0
            return "\(label) \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", seconds / max(wallSeconds, 1e-9) * 100)) %)"
        }
        lines.append("  stages (wall)    of \(String(format: "%.2f", wallSeconds)) s: consume loop: \(stage("decode_features", "decode+features")), "
                     + "\(stage("score", "score+drift")), \(stage("serialize_state", "serialize")), other (waiting for input or the previous commit) "
                     + "\(String(format: "%.2f", max(0, wallSeconds - loop))) s; background: \(stage("postgres_commit", "postgres transaction")), of which \(stage("kafka_acks", "waiting for kafka acks before COMMIT"))")
        if let bound {
            var text = "  PostgreSQL bound \(rate(bound.rowsPerSec)) rows/s: the run's \(bound.microBatches) micro-batches (\(bound.rows) rows) committed alone, back to back"
            if let cpu = bound.postgresCPUSecondsPerMillion { text += " (backend CPU \(String(format: "%.1f", cpu)) s/M)" }
            if let ratioToBound { text += "; ratio to bound \(String(format: "%.2f", ratioToBound))" + (ratioToBound < 0.8 ? " (below 0.8)" : "") }
            lines.append(text)
            if let ratioAtBoundCPU, let postgresCoresRun, let postgresCoresBound {
                lines.append("  PostgreSQL busy  \(String(format: "%.2f", postgresCoresRun)) of a core in the run, \(String(format: "%.2f", postgresCoresBound)) alone: "
                             + "the ratio at the bound's CPU per row is \(String(format: "%.2f", ratioAtBoundCPU)) (steady when the host's speed changes between run and bound)")
            }
        }
        for part in boundParts ?? [] {
            var text = "    \(part.part == .featureLog ? "feature log alone" : "entities alone ")  \(rate(part.rowsPerSec)) events/s"
            if let cpu = part.postgresCPUSecondsPerMillion { text += " (backend CPU \(String(format: "%.1f", cpu)) s/M)" }
            lines.append(text)
        }
        return lines.joined(separator: "\n")
    }
}
