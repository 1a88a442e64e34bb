import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SluiceConfiguration
import SluiceFeatureStore
import SluiceKafka
import SluicePostgres
import SluiceRegistry
import SluiceSnapshots
import SluiceWorker

/// `sluice run` as services of one `ServiceGroup`: the worker, the label joiner, the model watcher, the snapshot
/// schedule and the HTTP admin server.
///
/// Graceful shutdown goes in reverse order of `services()`: the worker first (stop consuming, drain the
/// in-flight micro-batches, commit, flush the producer), then the label joiner, the schedule (waiting for an
/// export in progress), the model watcher, and the HTTP server last, so `/readyz` answers "shutting down"
/// while the rest drains.
package final class SluiceApplication: Sendable {
    package let config: SluiceConfig
    package let setup: WorkerSetup
    package let worker: Worker
    package let joiner: LabelJoiner?
    package let readiness: Readiness
    package let api: AdminAPI
    private let watcher: ModelWatcher
    private let snapshots: AlertSnapshots
    private let connections: [PostgresConnection]
    private let pool: PostgresPool
    private let logger: Logger
    private let exitAfterIdle: Double?
    /// Where the HTTP server listens; port 0 picks a free port (tests), reported to `onListening`.
    private let address: BindAddress
    private let onListening: @Sendable (Int) -> Void

    /// Connects to PostgreSQL (applying the migrations), and makes the worker, the label joiner, the model
    /// registry's watcher (loading the serving models now), the snapshot service and the admin API.
    /// - Parameter exitAfterIdle: stop gracefully once no event has arrived for this many seconds after the first.
    /// - Throws: ``ServiceError`` for an `http.address` that cannot be listened on; what connecting or migrating throws.
    /// - Parameter renderMetrics: the Prometheus text `GET /metrics` serves (the process's registry by default).
    package init(config: SluiceConfig, setup: WorkerSetup, logger: Logger, exitAfterIdle: Double? = nil,
                 renderMetrics: @escaping @Sendable () -> [UInt8] = PrometheusExport.render,
                 onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        self.config = config
        self.setup = setup
        self.logger = logger
        self.exitAfterIdle = exitAfterIdle
        self.onListening = onListening
        self.address = try Self.bindAddress(config.http.address)
        let url = config.postgres.url.value
        let schema = config.postgres.schema
        func connect() async throws -> PostgresConnection { try await PostgresConnection.connect(url: url, logger: logger) }
        let connection = try await connect()
        let applied = try await FeatureStoreMigrations.migrate(connection, schema: schema)
        if !applied.isEmpty { logger.info("applied schema migrations", metadata: ["versions": "\(applied)"]) }
        let reader = try await connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: logger)
        // The registry's production (and shadow) version of model.name scores events; promotions arrive by NOTIFY.
        let registryConnection = try await connect()
        let listener = try await connect()
        let registry = try ModelRegistry(connection: registryConnection, schema: schema, logger: logger)
        // A reference the monitor builds from the first live events is stored with the model version.
        worker.setReferenceSink { name, version, profile in
            do {
                try await registry.storeReference(name: name, version: version, profile: profile)
            } catch {
                logger.error("could not store the drift reference built from live events", metadata: [
                    "model": "\(name)", "version": "\(version)", "error": "\(error)"])
            }
        }
        // Labels are joined to logged predictions on a connection and consumer group of their own.
        let labelsConnection = config.labels.enabled ? try await connect() : nil
        let joiner = try labelsConnection.map { try LabelJoiner(setup: setup, connection: $0, logger: Logger(label: "sluice.labels")) }
        // Snapshots (drift alert, schedule, HTTP API) export one at a time on a connection of their own and
        // publish their retrain requests.
        let snapshotConnection = try await connect()
        let snapshotLogger = Logger(label: "sluice.snapshots")
        let service = SnapshotService(
            exporter: try SnapshotExporter(connection: snapshotConnection, schema: schema, logger: snapshotLogger),
            producer: try KafkaProducer(configuration: setup.producerConfiguration, logger: snapshotLogger),
            topic: config.outputs.retrainTopic, logger: snapshotLogger)
        let snapshots = AlertSnapshots(service: service, settings: config.snapshots, logger: snapshotLogger)
        if config.snapshots.onAlert {
            worker.setAlertSnapshots(snapshots)
            joiner?.setAlertSnapshots(snapshots)
        }
        let watcher = ModelWatcher(
            registry: registry, listener: listener, name: config.model.name, shadow: config.model.shadow, pipelineFeatures: setup.featureNames,
            refreshInterval: config.model.refreshInterval, logger: logger, apply: { worker.setModels($0) })
        await watcher.refresh()
        let readinessConnection = try await connect()
        let readiness = Readiness(connection: readinessConnection, worker: worker, modelName: config.model.name)
        let pool = PostgresPool(configuration: try PostgresConfiguration(url), options: .init(minConnections: 0, maxConnections: 4), logger: logger)
        self.worker = worker
        self.joiner = joiner
        self.watcher = watcher
        self.snapshots = snapshots
        self.readiness = readiness
        self.pool = pool
        self.api = AdminAPI(config: config, worker: worker, readiness: readiness, pool: pool, snapshots: snapshots,
                            pipelineFeatures: setup.featureNames, logger: Logger(label: "sluice.http"), renderMetrics: renderMetrics)
        self.connections = [connection, reader, registryConnection, listener, snapshotConnection, readinessConnection] + (labelsConnection.map { [$0] } ?? [])
    }

    /// The services in start order (graceful shutdown runs in reverse).
    package func services() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let http = Application(
            router: api.router(), configuration: ApplicationConfiguration(address: address, serverName: "sluice"),
            onServerRunning: { [logger, onListening] channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("http admin listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "port": "\(port)"])
                onListening(port)
            },
            logger: Logger(label: "sluice.http"))
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ListeningService(address: config.http.address, server: http), successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "http"),
            .init(service: TaskService { [watcher] in await watcher.run() }, serviceName: "model-watcher"),
            .init(service: ScheduleService(snapshots: snapshots, modelName: config.model.name), serviceName: "snapshot-schedule"),
        ]
        if let exitAfterIdle {
            services.append(.init(service: IdleService(worker: worker, seconds: exitAfterIdle, logger: logger),
                                  successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "idle-stop"))
        }
        if let joiner {
            services.append(.init(service: StoppableService(run: { try await joiner.run() }, stop: { await joiner.stop() }),
                                  successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup,
                                  serviceName: "label-joiner"))
        }
        services.append(.init(service: StoppableService(run: { [worker] in try await worker.run() }, stop: { [readiness, worker] in
            await readiness.markStopping()
            await worker.stop()
        }), successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "worker"))
        return services
    }

    /// What a forced stop now leaves behind, for the log line that says so.
    package var abandoned: String {
        let uncommitted = worker.uncommittedEvents
        var parts = ["\(uncommitted) consumed event(s) not committed (offsets are stored with the features, so a restart consumes them again)"]
        if let joiner {
            let counts = joiner.counts
            let open = counts.consumed - counts.joined - counts.deadLettered.values.reduce(0, +)
            if open > 0 { parts.append("\(open) label(s) not yet joined (their offsets are not stored; a restart reads them again)") }
        }
        return parts.joined(separator: "; ")
    }

    /// Closes the connections (after the service group has returned).
    package func close() async {
        for connection in connections { await connection.close() }
        await pool.close()
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces).
    static func bindAddress(_ text: String) throws -> BindAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ServiceError("http.address '\(text)' is not host:port; expected e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return .hostname(host.isEmpty ? "0.0.0.0" : host, port: port)
    }
}

/// The HTTP server; a failure to listen names the address and the setting to change.
struct ListeningService: Service {
    let address: String
    let server: any Service

    func run() async throws {
        do {
            try await server.run()
        } catch let error as CancellationError {
            throw error
        } catch {
            throw ServiceError("the HTTP admin server could not listen on \(address) (\(error)); expected a free host:port in http.address (SLUICE_HTTP_ADDRESS)")
        }
    }
}

/// A service that runs until `run` returns, and is asked to stop by `stop` on graceful shutdown.
struct StoppableService: Service {
    let run: @Sendable () async throws -> Void
    let stop: @Sendable () async -> Void

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await run()
        } onGracefulShutdown: {
            Task { await stop() }
        }
    }
}

/// A service whose work is cancelled on graceful shutdown (it holds nothing that needs draining).
struct TaskService: Service {
    let body: @Sendable () async -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { await body() }
    }
}

/// `snapshots.schedule`; on shutdown, waits for an export in progress before returning.
struct ScheduleService: Service {
    let snapshots: AlertSnapshots
    let modelName: String?

    func run() async throws {
        if let modelName {
            // Returns at once without snapshots.schedule; cancelled by the graceful shutdown otherwise.
            try? await cancelWhenGracefulShutdown { await snapshots.runSchedule(modelName: modelName) }
        }
        try? await gracefulShutdown()
        await snapshots.settle()
    }
}

/// `sluice run --exit-after-idle S`: returns (shutting the group down gracefully) once no event has arrived
/// for S seconds after the first one.
struct IdleService: Service {
    let worker: Worker
    let seconds: Double
    let logger: Logger

    func run() async throws {
        var last = (consumed: 0, at: ContinuousClock.now)
        while !Task.isShuttingDownGracefully {
            do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
            let consumed = worker.counts.consumed
            if consumed != last.consumed {
                last = (consumed, ContinuousClock.now)
            } else if consumed > 0, ContinuousClock.now - last.at >= .seconds(seconds) {
                logger.info("idle; stopping", metadata: ["seconds": "\(seconds)"])
                return
            }
        }
    }
}
