import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import Prometheus
import NIOCore
import ServiceLifecycle
import SluiceConfiguration
import SluiceFeatureStore
import SluiceKafka
import SluicePostgres
import SluiceRegistry
import SluiceService
import SluiceWorker
import Synchronization
import Testing

/// The running service: the HTTP admin API against a live worker, Prometheus metrics after traffic, pause and
/// resume without leaving the group, and graceful shutdown — in-process and as `sluice run` stopped by SIGTERM.
@Suite("Service: HTTP API, metrics, lifecycle", .serialized, .timeLimit(.minutes(6)))
struct ServiceTests {
    static let token = "t0ken-for-tests"

    /// A running `SluiceApplication` with its HTTP server on a free port, and a client for it.
    struct Running {
        let app: SluiceApplication
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let client: TestClient

        func get(_ uri: String) async throws -> (status: Int, body: String) {
            let response = try await client.get(uri)
            return (response.status.code, response.body.map { String(buffer: $0) } ?? "")
        }

        func post(_ uri: String, _ body: String = "{}", token: String? = ServiceTests.token) async throws -> (status: Int, body: String, authenticate: String?) {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let token { headers[.authorization] = "Bearer \(token)" }
            let response = try await client.post(uri, headers: headers, body: ByteBuffer(string: body))
            return (response.status.code, response.body.map { String(buffer: $0) } ?? "", response.headers[.wwwAuthenticate])
        }

        /// Graceful shutdown; the group must return without an error.
        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
            try await client.shutdown()
            await app.close()
        }
    }

    /// Starts the service; with `metrics`, everything it makes reports to that registry (bound with
    /// `withMetricsFactory` around the start, so workers of tests running in parallel do not add to it).
    static func start(_ environment: WorkerEnvironment, extra: String = "", metrics: PrometheusCollectorRegistry? = nil) async throws -> Running {
        guard let metrics else { return try await start(environment, extra: extra, render: PrometheusExport.render) }
        return try await withMetricsFactory(PrometheusMetricsFactory(registry: metrics)) {
            try await start(environment, extra: extra, render: {
                var buffer: [UInt8] = []
                metrics.emit(into: &buffer)
                return buffer
            })
        }
    }

    private static func start(_ environment: WorkerEnvironment, extra: String, render: @escaping @Sendable () -> [UInt8]) async throws -> Running {
        let config = try SluiceConfig.load(yamlText: environment.yaml(http: #"{address: "127.0.0.1:0", token: \#(token)}"#) + """

            labels: {enabled: false}
            snapshots: {directory: \(FileManager.default.temporaryDirectory.path)/sluice-api-\(environment.id), on_alert: false}
            \(extra)
            """, environment: [:]).config
        let port = Mutex<Int?>(nil)
        let app = try await SluiceApplication(config: config, setup: try WorkerSetup(config: config), logger: WorkerEnvironment.logger,
                                              renderMetrics: render, onListening: { listening in port.withLock { $0 = listening } })
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: app.services(), logger: WorkerEnvironment.logger))
        let task = Task { try await group.run() }
        try await waitFor("the HTTP server listens") { port.withLock { $0 } != nil }
        let client = TestClient(host: "127.0.0.1", port: port.withLock { $0 }!)
        client.connect()
        return Running(app: app, group: group, task: task, client: client)
    }

    /// The value of a sample line `name{labels} value` in Prometheus text; nil when absent.
    static func sample(_ metrics: String, _ series: String) -> Double? {
        for line in metrics.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func adminAPIAgainstARunningWorker() async throws {
        let environment = try await WorkerEnvironment(partitions: 2)
        defer { Task { try? await environment.dropSchema() } }
        let observer = try await environment.connect()
        try await FeatureStoreMigrations.migrate(observer, schema: environment.schema)
        let registry = try ModelRegistry(connection: observer, schema: environment.schema, logger: WorkerEnvironment.logger)
        let features = try WorkerSetup(config: try environment.config()).featureNames
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: [0.004, 0.3, -0.2, -0.0001], intercept: -1.5),
                                        format: nil, stage: .staging, pipelineFeatures: features)
        let service = try await Self.start(environment, metrics: PrometheusCollectorRegistry())

        // Probes: alive at once; not ready while no production model is loaded, and it says so.
        #expect(try await service.get("/healthz") == (200, #"{"status":"alive"}"#))
        let unready = try await service.get("/readyz")
        #expect(unready.status == 503)
        #expect(unready.body.contains(#""model":{"detail":"no production version of model 'default' is loaded"#), "\(unready.body)")

        // Mutating endpoints: no token → 401 with a challenge, wrong token → 401, right token → done.
        let missing = try await service.post("/v1/models/default/promote", #"{"version": 1}"#, token: nil)
        #expect(missing.status == 401)
        #expect(missing.authenticate == #"Bearer realm="sluice""#)
        #expect(try await service.post("/v1/models/default/promote", #"{"version": 1}"#, token: "wrong").status == 401)
        #expect(try await service.post("/v1/pause", token: nil).status == 401)
        let badBody = try await service.post("/v1/models/default/promote", #"{"versio": 1}"#)
        #expect(badBody.status == 400)
        #expect(badBody.body.contains("field 'version' is missing"))
        #expect(try await service.post("/v1/models/default/promote", #"{"version": 9}"#).status == 404)
        let promoted = try await service.post("/v1/models/default/promote", #"{"version": 1}"#)
        #expect(promoted.status == 200)
        #expect(promoted.body.contains(#""promoted":true"#) && promoted.body.contains(#""stage":"production""#), "\(promoted.body)")
        try await waitFor("/readyz reports ready") { try await service.get("/readyz").status == 200 }

        // Traffic, including an entity id made of SQL punctuation.
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 600_000
        try await environment.produce(2_000, seed: 7, startMillis: start)
        let odd = #"o'brien; DROP TABLE entities;--"#
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: environment.brokers), logger: WorkerEnvironment.logger)
        let event = #"{"user_id":"o'brien; DROP TABLE entities;--","ts":\#(start + 500_000),"event_id":"odd-1","amount":12.5,"merchant":"m1","country":"IE"}"#
        _ = try await producer.send(KafkaProducerMessage(topic: environment.topic, key: Array(odd.utf8), value: Array(event.utf8)))
        try await producer.close()
        try await environment.waitUntilCaughtUp(observer)

        let encoded = odd.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let oddFeatures = try await service.get("/v1/features/\(encoded)")
        #expect(oddFeatures.status == 200)
        #expect(oddFeatures.body.hasPrefix(#"{"entity":"o'brien; DROP TABLE entities;--","event_time":"#), "\(oddFeatures.body)")
        #expect(oddFeatures.body.contains(#""amount":12.5"#))
        #expect(try await service.get("/v1/features/\(encoded)?as_of=2000-01-01T00:00:00Z").status == 404)
        #expect(try await service.get("/v1/features/\(encoded)?as_of=yesterday").status == 400)
        #expect(try await service.get("/v1/features/nobody").status == 404)

        let models = try await service.get("/v1/models")
        #expect(models.status == 200)
        #expect(models.body.contains(#""name":"default""#) && models.body.contains(#""version":1"#))
        let drift = try await service.get("/v1/drift")
        #expect(drift.status == 200 && drift.body.hasPrefix("["))
        let snapshot = try await service.post("/v1/snapshots", #"{"since": "yesterday"}"#)
        #expect(snapshot.status == 400)
        #expect(snapshot.body.contains("since 'yesterday' is not an RFC 3339 timestamp"))
        let empty = try await service.post("/v1/snapshots", #"{"model": "default"}"#)
        #expect(empty.status == 404, "no labelled rows yet: \(empty.body)")

        // Metrics after traffic: names present, counts equal to what the worker did.
        let counts = service.app.worker.counts
        let metrics = try await service.get("/metrics")
        #expect(metrics.status == 200)
        let text = metrics.body
        #expect(Self.sample(text, #"sluice_events_consumed_total{topic="\#(environment.topic)"}"#) == Double(counts.consumed))
        #expect(Self.sample(text, "sluice_events_processed_total") == Double(counts.processed))
        for (reason, count) in counts.deadLettered {
            #expect(Self.sample(text, #"sluice_events_dead_lettered_total{reason="\#(reason)"}"#) == Double(count), "reason \(reason)")
        }
        #expect(!counts.deadLettered.isEmpty, "the demo stream holds malformed events")
        #expect(Self.sample(text, #"sluice_predictions_total{model="default",version="1"}"#) == Double(counts.predicted))
        #expect(Self.sample(text, "sluice_end_to_end_latency_seconds_count") == Double(counts.predicted))
        #expect(Self.sample(text, "sluice_flush_duration_seconds_count") == Double(counts.microBatches))
        #expect(Self.sample(text, #"sluice_model_version{model="default",role="production"}"#) == 1)
        #expect(Self.sample(text, #"sluice_consumer_lag{topic="\#(environment.topic)",partition="0"}"#) == 0)
        for name in ["sluice_microbatch_events_bucket", "sluice_scoring_duration_seconds_count", "sluice_paused", "sluice_ready"] {
            #expect(text.contains(name), "\(name) is exported")
        }

        // Pause: the member keeps its partitions and consumes nothing new; resume: it catches up.
        #expect(try await service.post("/v1/pause").body == #"{"paused":true}"#)
        let consumedAtPause = service.app.worker.counts.consumed
        try await environment.produce(500, seed: 8, startMillis: start + 520_000)
        let watermarks = try await environment.highWatermarks()
        let observedUntil = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < observedUntil {
            #expect(service.app.worker.counts.consumed == consumedAtPause, "nothing is consumed while paused")
            #expect(service.app.worker.membershipState.partitions.count == environment.partitions, "the paused member keeps its partitions")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await service.get("/readyz").body.contains("consumption paused"))
        #expect(Self.sample(try await service.get("/metrics").body, "sluice_paused") == 1)
        #expect(try await service.post("/v1/resume").body == #"{"paused":false}"#)
        try await environment.waitUntilCaughtUp(observer)
        #expect(try await environment.storedOffsets(observer) == watermarks)

        // Rollback through the API: v2 to production, then back to v1.
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: [0.002, 0.1, -0.1, -0.0001], intercept: -1),
                                        format: nil, stage: .staging, pipelineFeatures: features)
        #expect(try await service.post("/v1/models/default/promote", #"{"version": 2}"#).status == 200)
        let rollback = try await service.post("/v1/models/default/rollback")
        #expect(rollback.status == 200)
        #expect(rollback.body == #"{"from":2,"model":"default","to":1}"#)

        // Graceful shutdown: everything consumed is committed.
        try await service.stop()
        let final = service.app.worker.counts
        #expect(final.consumed == final.processed + final.deadLettered.values.reduce(0, +))
        #expect(try await environment.storedOffsets(observer) == watermarks)
        await observer.close()
    }

    @Test func mutatingEndpointsRefuseEveryRequestWithoutAConfiguredToken() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let service = try await Self.start(environment, extra: "")
        // Same service, but the API built without a token: every POST is refused with 403.
        let config = try environment.config(extra: "labels: {enabled: false}")
        #expect(config.http.token == nil)
        let pool = PostgresPool(configuration: try PostgresConfiguration(environment.postgresURL))
        defer { Task { await pool.close() } }
        let api = AdminAPI(config: config, worker: service.app.worker, readiness: service.app.readiness, pool: pool,
                           snapshots: service.app.api.snapshots, pipelineFeatures: [], logger: WorkerEnvironment.logger)
        let app = Application(router: api.router())
        try await app.test(.router) { client in
            for path in ["/v1/pause", "/v1/resume", "/v1/snapshots", "/v1/models/default/promote", "/v1/models/default/rollback"] {
                try await client.execute(uri: path, method: .post, headers: [.authorization: "Bearer anything"], body: ByteBuffer(string: "{}")) { response in
                    #expect(response.status == .forbidden, "\(path)")
                    #expect(String(buffer: response.body).contains("no http.token is configured"))
                }
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
        #expect(!service.app.worker.isPaused)
        try await service.stop()
    }

    @Test func sigtermUnderLoadCommitsEverythingAndARestartContinuesExactly() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.sluiceBinary), "build sluice first (swift build)")
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-term-\(environment.id).yaml").path
        try environment.yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let observer = try await environment.connect()
        try await FeatureStoreMigrations.migrate(observer, schema: environment.schema)
        let registry = try ModelRegistry(connection: observer, schema: environment.schema, logger: WorkerEnvironment.logger)
        _ = try await registry.register(name: "default", artifact: linearModelJSON(weights: [0.004, 0.3, -0.2, -0.0001], intercept: -1.5), format: nil,
                                        stage: .production, pipelineFeatures: try WorkerSetup(config: try environment.config()).featureNames)
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000

        let output = Pipe()
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: CrashRecoveryTests.sluiceBinary)
        worker.arguments = ["run", "--config", configPath]
        worker.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }
        worker.standardOutput = output
        worker.standardError = FileHandle.nullDevice
        try worker.run()
        let producing = Task {
            for round in 0..<6 { try await environment.produce(1_000, seed: 40 + UInt64(round), startMillis: start + Int64(round) * 100_000) }
        }
        try await waitFor("the worker commits a micro-batch while events flow") { try await environment.committedEvents(observer) > 0 }
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        #expect(worker.terminationReason == .exit && worker.terminationStatus == 0, "SIGTERM under load exits 0")
        // Its summary line: every consumed event was committed (or dead-lettered) before it exited, and the
        // offsets stored in PostgreSQL account for exactly those events.
        let summary = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let numbers = try #require(summary.firstMatch(of: /run: consumed (\d+) events, wrote (\d+) to the feature store.*dead-lettered (\d+)/), "\(summary)")
        let (consumed, wrote, deadLettered) = (Int(numbers.1)!, Int(numbers.2)!, Int(numbers.3)!)
        #expect(consumed > 0)
        #expect(consumed == wrote + deadLettered, "nothing consumed was left uncommitted")
        #expect(try await environment.committedEvents(observer) == Int64(consumed), "the stored offsets cover exactly what was consumed")

        // A restart continues exactly where the stopped worker left off.
        try await producing.value
        let restarted = try CrashRecoveryTests.startWorker(configPath: configPath)
        try await environment.waitUntilCaughtUp(observer)
        kill(restarted.processIdentifier, SIGTERM)
        restarted.waitUntilExit()
        #expect(restarted.terminationStatus == 0)
        try await environment.expectStoreMatchesReference(observer, after: "a SIGTERM under load and a restart")
        await observer.close()
    }

    @Test func aShutdownPastItsTimeoutIsForcedAndLosesNothing() async throws {
        let environment = try await WorkerEnvironment(partitions: 2)
        defer { Task { try? await environment.dropSchema() } }
        let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-force-\(environment.id).yaml").path
        try (environment.yaml + "\nshutdown: {timeout: 1s}\nlabels: {enabled: false}\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: configPath) }
        let observer = try await environment.connect()
        let locker = try await environment.connect()
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(1_000, seed: 51, startMillis: start)

        let errors = Pipe()
        let worker = Process()
        worker.executableURL = URL(fileURLWithPath: CrashRecoveryTests.sluiceBinary)
        worker.arguments = ["run", "--config", configPath]
        worker.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }
        worker.standardOutput = FileHandle.nullDevice
        worker.standardError = errors
        try worker.run()
        try await environment.waitUntilCaughtUp(observer)
        // The offsets table is locked, so the next micro-batch cannot commit and the drain cannot finish.
        let committed = try await environment.storedOffsets(observer)
        try await locker.execute("BEGIN")
        try await locker.execute("LOCK TABLE \(environment.schema).consumer_offsets IN ACCESS EXCLUSIVE MODE")
        try await environment.produce(1_000, seed: 52, startMillis: start + 100_000)
        try await waitFor("the worker has a micro-batch waiting on the lock") {
            let rows = try await observer.query("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return try rows.first!.decode(Int64.self, column: 0) > 0
        }
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        #expect(worker.terminationReason == .exit && worker.terminationStatus == ShutdownController.timeoutExitCode, "status \(worker.terminationStatus)")
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("forced exit") && log.contains("shutdown.timeout") && log.contains("consumed event(s) not committed"), "\(log.suffix(2_000))")
        try await locker.execute("ROLLBACK")
        #expect(try await environment.storedOffsets(observer) == committed, "the blocked micro-batch never committed")

        // A restart consumes the abandoned events again: the store ends equal to the reference.
        let restarted = try CrashRecoveryTests.startWorker(configPath: configPath)
        try await environment.waitUntilCaughtUp(observer)
        kill(restarted.processIdentifier, SIGTERM)
        restarted.waitUntilExit()
        #expect(restarted.terminationStatus == 0)
        let reference = try await ReferenceRun.compute(environment, setup: try WorkerSetup(config: try environment.config()))
        #expect(try await environment.storedFeatures(observer) == reference.features)
        let logged = try await observer.query("SELECT count(*) FROM \(environment.schema).feature_log").first!.decode(Int64.self, column: 0)
        #expect(logged == Int64(reference.processed), "each processed event logged once")
        await locker.close()
        await observer.close()
    }
}
