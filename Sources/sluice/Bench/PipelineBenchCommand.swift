import ArgumentParser
import Foundation
import Logging
import SluiceConfiguration
import SluiceFeatureStore
import SluiceInference
import SluicePostgres
import SluiceWorker
import Synchronization

/// `sluice bench pipeline`: the whole pipeline — Kafka → decode → features → PostgreSQL feature store → scoring →
/// predictions topic → drift monitor — with the load in a producer process and the latency measured by a consumer
/// of the predictions topic in a probe process. Reports sustained events/s, end-to-end latency percentiles, CPU
/// per million events of every process, the worker's peak RSS, time per stage, and the bound PostgreSQL alone sets.
struct PipelineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "The whole pipeline on the dev cluster and PostgreSQL: events/s, end-to-end latency, CPU, peak RSS, stages, PostgreSQL bound.",
        discussion: """
        Processes: this one runs the worker (its CPU and peak RSS are the worker's); a `sluice dev-cluster` process is the Kafka broker (unless --bootstrap-servers); a producer process sends the demo events; a probe process consumes the predictions topic. PostgreSQL is the server at --postgres-url (scripts/dev-postgres start prints one).

        The worker starts first; once it owns every partition the producer starts. Saturation (default): the producer sends as fast as the backlog allows (--max-backlog events not yet committed), so the worker always has work; events/s is the sustained commit rate, and latency is only backlog latency. Fixed rate (--rate): the producer sends event i when it is due (start + i/rate) and stamps it with that time; latency = the probe receiving the event's prediction − the due time, on the same host clock.

        After each run its micro-batches are replayed into PostgreSQL alone (the bound) unless --no-bound. Method and measured figures: docs/performance.md.
        """
    )

    @Option(help: "Events to produce per run.")
    var events: Int = 1_000_000

    @Option(help: "Distinct entities (Zipf-distributed).")
    var entities: Int = 100_000

    @Option(help: "Zipf exponent of entity popularity.")
    var zipf: Double = 1.1

    @Option(help: "Fixed input rate in events/s (latency mode). Default: saturation (as fast as the backlog allows).")
    var rate: Double?

    @Option(help: "Most events produced but not yet committed by the worker. The dev cluster keeps about 5 MiB (25,000 demo events) per partition and the most popular entity alone has ~13 % of the events at Zipf 1.1, so keep this under 150,000.")
    var maxBacklog: Int = 100_000

    @Option(help: "Events per micro-batch (flush.max_events); a comma-separated list (1000,5000,20000) runs once per size.")
    var batch: String = "5000"

    @Option(help: "Longest a micro-batch stays open, in milliseconds (flush.max_interval). Default: 500, with --rate 5.")
    var maxIntervalMs: Int?

    @Option(help: "Least time between the starts of two transactions, in milliseconds (flush.commit_interval), unless a whole micro-batch waits. Default: the configuration's (100).")
    var commitIntervalMs: Int?

    @Option(help: "Most messages per consumer poll (kafka.consumer.poll_batch_size), at most the micro-batch; a poll never waits to fill it.")
    var pollBatch: Int = 2_000

    @Option(help: "The worker's producer linger, in milliseconds (kafka.producer.linger). Default: 5, with --rate 1.")
    var lingerMs: Int?

    @Option(help: "The worker's producer compression (kafka.producer.compression: none, gzip, snappy, lz4, zstd). Default: the configuration's (lz4). On a broker on the same cores, compressing costs CPU and saves only loopback bytes.")
    var compression: KafkaConfig.Compression?

    @Option(help: "The producer process's linger, in milliseconds (librdkafka linger.ms): shorter batches cost the broker (on the same cores) more CPU; the time counts in the latency.")
    var producerLingerMs: Int = 5

    @Option(help: "librdkafka fetch.wait.max.ms of the worker's consumer and the probe, in milliseconds. The dev cluster answers a fetch that finds no data only after this long, even when data arrives meanwhile (a real broker answers at once), so librdkafka's 500 ms default would add up to 500 ms to latency. Default: 5, with --rate 1.")
    var fetchWaitMs: Int?

    @Option(help: "Model scoring every event (XGBoost JSON, LightGBM text or linear JSON).")
    var model: String = "examples/models/fraud-xgb.json"

    @Flag(help: "Turn the drift monitor off.")
    var noDrift = false

    @Option(help: "Partitions of the input and predictions topics. Default: 16, with --rate 4 (the dev cluster's fetch cost grows with partitions × stored message sets; see docs/performance.md).")
    var partitions: Int?

    @Option(help: "PostgreSQL URL (default: $SLUICE_POSTGRES_URL; scripts/dev-postgres start prints one).")
    var postgresURL: String?

    @Option(help: "Use this Kafka cluster instead of starting a dev cluster process.")
    var bootstrapServers: String?

    @Option(help: "Control port of that cluster when it is a dev cluster (scripts/dev-kafka control-port), to create topics.")
    var controlPort: UInt16?

    @Flag(help: "Run with postgres.synchronous_commit: false.")
    var asyncCommit = false

    @Flag(help: "Run with state.new_entity_filter: false (every entity missing from the cache is looked up in PostgreSQL).")
    var noKeyFilter = false

    @Option(help: "Leading seconds of a fixed-rate run left out of the latency percentiles.")
    var warmup: Double = 2

    @Flag(help: "Skip the PostgreSQL bound (replaying the run's micro-batches into PostgreSQL alone).")
    var noBound = false

    @Flag(help: "Also replay the feature-log rows alone and the entity upserts alone, to show what of the bound each costs.")
    var boundParts = false

    @Option(help: "Take source, features, drift and model settings from this configuration file (it must declare the demo events' fields), e.g. config/sluice.yaml. Default: the built-in 10 features.")
    var config: String?

    @Option(help: "Random seed of the events.")
    var seed: UInt64 = 1

    @Flag(help: "Keep the bench schemas (bench_<id>, bench_<id>_bound) instead of dropping them.")
    var keep = false

    @Option(help: "Write the latency per second of sending (second, events, p50, p99, max in ms) to this CSV file (with several --batch sizes, one file each: FILE.<size>).")
    var latencyCSV: String?

    @Flag(help: "Print the result as JSON (an array of results when --batch lists several sizes).")
    var json = false

    func validate() throws {
        guard events > 0, entities > 0 else { throw ValidationError("--events and --entities must be positive") }
        guard maxBacklog > 0, topicPartitions > 0 else { throw ValidationError("--max-backlog and --partitions must be positive") }
        guard zipf >= 0 else { throw ValidationError("--zipf must be ≥ 0, got \(zipf)") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be a positive number of events per second, got \(rate)") }
        _ = try microBatches()
    }

    /// `--partitions`, or its default for the mode. At a fixed rate every produce request adds one small message set
    /// per partition, and the dev cluster walks a partition's stored sets on every fetch, so its CPU per event grows
    /// with the partition count (docs/performance.md, *Fifth round*); saturation needs more partitions to hold a
    /// backlog under the dev cluster's 5 MiB per partition.
    var topicPartitions: Int { partitions ?? (rate == nil ? 16 : 4) }

    /// `--fetch-wait-ms`, or its default for the mode.
    var fetchWait: Int { fetchWaitMs ?? (rate == nil ? 5 : 1) }

    /// The `--batch` sizes.
    func microBatches() throws -> [Int] {
        let sizes = batch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let parsed = sizes.compactMap { Int($0) }.filter { $0 >= 1 && $0 <= 1_000_000 }
        guard !sizes.isEmpty, parsed.count == sizes.count else {
            throw ValidationError("--batch '\(batch)': expected event counts from 1 to 1,000,000 separated by commas, e.g. 1000,5000,20000")
        }
        return parsed
    }

    func run() async throws {
        CommandLogging.bootstrap(level: .error)
        let logger = CommandLogging.logger("sluice.bench.pipeline")
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["SLUICE_POSTGRES_URL"] else {
            throw ValidationError("no PostgreSQL URL: pass --postgres-url or set SLUICE_POSTGRES_URL (scripts/dev-postgres start prints one)")
        }
        let loaded = try ModelLoader.load(contentsOf: URL(fileURLWithPath: model))
        let cluster = try await BenchKafkaCluster(bootstrapServers: bootstrapServers, controlPort: controlPort, logger: logger)
        var results: [PipelineBenchResult] = []
        do {
            for size in try microBatches() {
                results.append(try await runOnce(microBatch: size, url: url, model: loaded, cluster: cluster, logger: logger))
                if !json { print(results.last!.text) }
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
        if json {
            if results.count == 1 { try BenchWorker.printJSON(results[0]) } else { try BenchWorker.printJSON(results) }
        } else if results.count > 1 {
            print("batch sweep: micro-batch → events/s, worker CPU s/M, pipeline CPU s/M")
            for result in results {
                print(String(format: "  %7d → %8.0f events/s, %6.1f, %6.1f", result.microBatch, result.eventsPerSec, result.cpuSecondsPerMillion, result.pipelineCPUSecondsPerMillion))
            }
        }
    }

    /// One run: fresh topics and schema, probe, producer, worker, latency, bound.
    private func runOnce(microBatch: Int, url: String, model: LoadedModel, cluster: BenchKafkaCluster, logger: Logger) async throws -> PipelineBenchResult {
        let loadAverage = Measure.loadAverages()
        let id = String(UUID().uuidString.prefix(8).lowercased())
        let topic = "bench-\(id)"
        try await cluster.createTopics([(topic, topicPartitions), (topic + ".dlq", 1), (topic + ".predictions", topicPartitions), (topic + ".alerts", 1)])

        var settings = BenchWorker.Settings(brokers: cluster.bootstrapServers, postgresURL: url, id: id, topic: topic)
        settings.microBatch = microBatch
        let maxInterval = maxIntervalMs ?? (rate == nil ? 500 : 5)
        settings.maxInterval = .milliseconds(maxInterval)
        settings.commitInterval = commitIntervalMs.map { .milliseconds($0) }
        // A poll batch larger than the micro-batch would make every micro-batch a poll batch.
        settings.pollBatchSize = min(microBatch, pollBatch)
        settings.linger = .milliseconds(lingerMs ?? (rate == nil ? 5 : 1))
        settings.fetchWaitMillis = fetchWait
        settings.compression = compression
        settings.synchronousCommit = !asyncCommit
        settings.drift = !noDrift
        settings.keyFilter = !noKeyFilter
        settings.configFile = config
        let workerConfig = try BenchWorker.configuration(settings)
        let setup = try WorkerSetup(config: workerConfig)

        let connection = try await PostgresConnection.connect(url: url, logger: logger)
        let reader = try await PostgresConnection.connect(url: url, logger: logger)
        let observer = try await PostgresConnection.connect(url: url, logger: logger)
        try await FeatureStoreMigrations.migrate(connection, schema: settings.schema)
        let workerBackends = [try await PostgresProcessCPU.backendPID(connection), try await PostgresProcessCPU.backendPID(reader)]

        let files = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(id)").path
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: files) }
        let sentFile = files + "/sent.bin"
        let receivedFile = files + "/received.bin"
        var children: [ChildProcess] = []
        defer { children.forEach { $0.terminate() } }

        let probe = try ChildProcess(name: "latency probe", arguments: [
            "bench", "pipeline-probe", "--brokers", cluster.bootstrapServers, "--topic", topic + ".predictions", "--group", "bench-\(id)-probe",
            "--events", String(events), "--times", receivedFile, "--fetch-wait-ms", String(fetchWait)])
        children.append(probe)
        try await probe.waitForLine("ready")
        var producerArguments = ["bench", "pipeline-producer", "--brokers", cluster.bootstrapServers, "--topic", topic, "--events", String(events),
                                 "--entities", String(entities), "--zipf", String(zipf), "--seed", String(seed), "--times", sentFile,
                                 "--linger-ms", String(producerLingerMs), "--credit-from-stdin"]
        if let rate { producerArguments += ["--rate", String(rate)] }

        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: logger)
        worker.setModels(ScoringModels(champion: try ScoringModel(name: "bench", version: 1, model: model, pipelineFeatures: setup.featureNames)))
        let postgresCPU = try await PostgresProcessCPU(observer: observer, named: workerBackends)
        let clusterCPUBefore = cluster.cpuSeconds()
        Measure.resetPeakRSS()
        let cpuBefore = Measure.cpuSeconds()
        let started = Measure.now()
        let failure = Mutex<String?>(nil)
        let running = Task {
            do {
                try await worker.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
                throw error
            }
        }

        // The worker owns every partition (its claims are in PostgreSQL) before the first event is sent.
        let deadline = ContinuousClock.now + .seconds(60)
        while try await observer.query("SELECT count(*)::int8 FROM \(settings.schema).consumer_offsets").first!.decode(Int64.self, column: 0) < topicPartitions {
            if let message = failure.withLock({ $0 }) { throw ValidationError("the worker failed: \(message)") }
            guard ContinuousClock.now < deadline else { throw ValidationError("the worker did not get its partitions within 60 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
        let producer = try ChildProcess(name: "producer", arguments: producerArguments)
        children.append(producer)
        var credit = maxBacklog
        try producer.send(String(credit))

        var watch = CommitWatch(observer: observer, schema: settings.schema)
        var producerSummary: PipelineProducerCommand.Summary? = nil
        var target: Int64? = nil
        var producerEnded: UInt64? = nil
        var firstConsumed: UInt64? = nil
        var lastSample = Measure.now()
        var lastProgress = (Measure.now(), Int64(0))
        while true {
            let committed = try await watch.poll()
            if let target, committed >= target { break }
            if let message = failure.withLock({ $0 }) { throw ValidationError("the worker failed: \(message)") }
            if firstConsumed == nil, worker.counts.consumed > 0 { firstConsumed = Measure.now() }
            let wanted = min(events, Int(committed) + maxBacklog)
            if wanted >= credit + 1_000 || (wanted == events && credit < events) {
                credit = wanted
                try? producer.send(String(credit))
            }
            if target == nil, !producer.isRunning {
                try await producer.waitForExit()
                let summary = try producer.summary(PipelineProducerCommand.Summary.self)
                producerSummary = summary
                producerEnded = Measure.now()
                target = Int64(summary.delivered)
            }
            let now = Measure.now()
            if now - lastSample > 1_000_000_000 {
                try await postgresCPU.sample()
                lastSample = now
            }
            if committed != lastProgress.1 { lastProgress = (now, committed) }
            if now - lastProgress.0 > 120_000_000_000 {
                throw ValidationError("no progress for 120 s: \(committed) of \(target.map(String.init) ?? "?") events committed")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let caughtUp = Measure.now()
        let workerCPU = Measure.cpuSeconds() - cpuBefore
        let peakRSS = Measure.residentPeakBytes()
        try await postgresCPU.sample()
        var clusterCPU: Double? = nil
        if let before = clusterCPUBefore, let after = cluster.cpuSeconds() { clusterCPU = after - before }
        let counts = worker.counts
        await worker.stop()
        try await running.value
        if let target, counts.consumed < Int(target) {
            throw ValidationError("the worker read \(counts.consumed) of \(target) events: the dev cluster dropped the others before they were read (it keeps about 5 MiB per partition); run with a smaller --max-backlog")
        }

        // Every prediction reaches the probe shortly after the worker flushed its producer.
        do {
            try await probe.waitForExit(timeout: .seconds(30))
        } catch {
            probe.terminate()
            try await probe.waitForExit(timeout: .seconds(30))
        }
        let probeSummary = try probe.summary(PipelineProbeCommand.Summary.self)
        guard let producerSummary else { throw ValidationError("the producer wrote no summary") }
        let workStarted = firstConsumed ?? started

        // Latency: probe arrival − producer stamp, per event, on the same host clock.
        let sent = try EventTimesFile.read(sentFile, count: events)
        let received = try EventTimesFile.read(receivedFile, count: events)
        let warmupNanos = rate == nil ? 0 : UInt64(warmup * 1e9)
        var latencies: [UInt64] = []
        latencies.reserveCapacity(events)
        var perSecond: [[UInt64]] = []
        var missing = 0
        for index in 0..<events where sent[index] != 0 {
            guard received[index] != 0 else { missing += 1; continue }
            let latency = received[index] > sent[index] ? received[index] - sent[index] : 0
            if latencyCSV != nil {
                let second = Int((sent[index] - sent[0]) / 1_000_000_000)
                while perSecond.count <= second { perSecond.append([]) }
                perSecond[second].append(latency)
            }
            if sent[index] < sent[0] + warmupNanos { continue }
            latencies.append(latency)
        }
        if let latencyCSV {
            var csv = "second,events,p50_ms,p99_ms,max_ms\n"
            for (second, values) in perSecond.enumerated() {
                guard let summary = LatencyPercentiles(nanoseconds: values) else { continue }
                csv += "\(second),\(summary.count),\(summary.p50),\(summary.p99),\(summary.max)\n"
            }
            let path = (try microBatches()).count > 1 ? "\(latencyCSV).\(microBatch)" : latencyCSV
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
        }

        // The worker caches the state of every entity it has seen; the store has one row per such entity.
        let activeEntities = Int(try await observer.query("SELECT count(*)::int8 FROM \(settings.schema).entities").first!.decode(Int64.self, column: 0))
        var bound: PostgresBound.Result? = nil
        var boundParts: [PostgresBound.Result] = []
        if !noBound {
            for part in self.boundParts ? PostgresBound.Part.allCases : [.all] {
                let result = try await PostgresBound.measure(url: url, sourceSchema: settings.schema, group: settings.group, featureSet: setup.featureSet,
                                                             synchronousCommit: !asyncCommit, keep: keep, part: part, logger: logger)
                if part == .all { bound = result } else { boundParts.append(result) }
            }
        }
        if !keep { try await observer.execute("DROP SCHEMA \(settings.schema) CASCADE") }
        await observer.close()
        await connection.close()
        await reader.close()

        let million = Double(events) / 1e6
        var cpuByProcess: [String: Double] = ["worker": workerCPU / million, "producer": producerSummary.cpuSeconds / million,
                                              "probe": probeSummary.cpuSeconds / million]
        if let postgres = postgresCPU.seconds {
            cpuByProcess["postgres_worker_backends"] = postgres.named / million
            cpuByProcess["postgres_other"] = postgres.others / million
        }
        if let clusterCPU { cpuByProcess["kafka_dev_cluster"] = clusterCPU / million }
        let pipelineCPU = ["worker", "postgres_worker_backends", "postgres_other", "kafka_dev_cluster"].reduce(0.0) { $0 + (cpuByProcess[$1] ?? 0) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let eventsPerSec = watch.eventsPerSecond
        let catchUp = rate == nil ? nil : producerEnded.map { Double(caughtUp > $0 ? caughtUp - $0 : 0) / 1e6 }
        // Cores PostgreSQL's writer used: rows/s × CPU seconds per row (the bound has only a writer; the run's reader
        // serves the state restores).
        let coresRun = postgresCPU.seconds(of: workerBackends[0]).map { eventsPerSec * $0 / Double(events) }
        let coresBound = bound.flatMap { bound in bound.postgresCPUSecondsPerMillion.map { bound.rowsPerSec * $0 / 1e6 } }
        return PipelineBenchResult(
            mode: rate == nil ? "saturation" : "fixed_rate", events: events, entities: entities, activeEntities: activeEntities, zipf: zipf, partitions: topicPartitions,
            microBatch: microBatch, maxIntervalMs: maxInterval, commitIntervalMs: Int(setup.commitIntervalNanos / 1_000_000), pollBatchSize: settings.pollBatchSize,
            model: self.model, config: config, drift: !noDrift, synchronousCommit: !asyncCommit, keyFilter: !noKeyFilter, compression: workerConfig.kafka.producer.compression.rawValue, targetRate: rate,
            inputRate: producerSummary.achievedRate, producerLatenessMs: producerSummary.lateness, eventsPerSec: eventsPerSec,
            eventsPerSecHalves: watch.halvesEventsPerSecond.map { [$0.first, $0.second] }, committedProgress: watch.progress,
            keptUp: catchUp.map { $0 <= 1_000 }, catchUpMs: catchUp,
            latencyKind: rate == nil ? "backlog" : "end_to_end", latencyMs: LatencyPercentiles(nanoseconds: latencies),
            warmupSeconds: rate == nil ? 0 : warmup, maxBacklog: maxBacklog, missingPredictions: missing,
            predictions: counts.predicted, deadLettered: counts.deadLettered.values.reduce(0, +), microBatches: counts.microBatches,
            scoredBatches: counts.scoredBatches,
            entityCacheMisses: counts.cacheMisses, entityLookupsSkipped: counts.skippedLookups,
            cpuSecondsPerMillion: workerCPU / million, cpuSecondsPerMillionByProcess: cpuByProcess,
            pipelineCPUSecondsPerMillion: pipelineCPU, cpuBoundEventsPerSec: pipelineCPU > 0 ? Double(cores) / pipelineCPU * 1e6 : 0, cores: cores,
            peakRSSBytes: peakRSS, stageSeconds: BenchWorker.stageSeconds(counts), wallSeconds: Double(caughtUp - workStarted) / 1e9,
            bound: bound, boundParts: boundParts.isEmpty ? nil : boundParts, ratioToBound: bound.map { eventsPerSec / $0.rowsPerSec },
            postgresCoresRun: coresRun, postgresCoresBound: coresBound, ratioAtBoundCPU: coresRun.flatMap { run in coresBound.map { run / $0 } },
            loadAverage: loadAverage)
    }
}

extension KafkaConfig.Compression: ExpressibleByArgument {}
