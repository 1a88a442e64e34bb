import ArgumentParser
import SluiceConfiguration
import Foundation
import Logging
import SluiceFeatureStore
import SluicePostgres
import SluiceKafka
import SluiceRegistry
import SluiceSnapshots
import SluiceWorker

/// `sluice run`: the worker.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker: consume events, compute features, score them, publish predictions, commit features with the offsets to PostgreSQL.",
        discussion: "SIGTERM or SIGINT stops consumption, commits what was processed and exits 0."
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Stop gracefully once no event has arrived for this many seconds after the first one (demos and scripts).")
    var exitAfterIdle: Double?

    func run() async throws {
        let termination = TerminationSignals()
        let config = try options.load()
        CommandLogging.bootstrap(level: config.logLevel)
        let logger = CommandLogging.logger("sluice.worker")
        let setup: WorkerSetup
        do {
            setup = try WorkerSetup(config: config)
        } catch {
            FileHandle.standardError.write(Data("invalid configuration \(options.path): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
        let applied = try await FeatureStoreMigrations.migrate(connection, schema: config.postgres.schema)
        if !applied.isEmpty { logger.info("applied schema migrations", metadata: ["versions": "\(applied)"]) }
        let reader = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: logger)
        // The registry's production (and shadow) version of model.name scores events; promotions arrive by NOTIFY.
        let registryConnection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
        let listener = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
        let registry = try ModelRegistry(connection: registryConnection, schema: config.postgres.schema, logger: logger)
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
        let labelsConnection = config.labels.enabled ? try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger) : nil
        let joiner = try labelsConnection.map { try LabelJoiner(setup: setup, connection: $0, logger: CommandLogging.logger("sluice.labels")) }
        // A firing drift alert (snapshots.on_alert) and the schedule (snapshots.schedule) export a labelled
        // snapshot and publish its retrain request.
        let snapshotConnection = config.snapshots.onAlert || config.snapshots.schedule != nil ? try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger) : nil
        var alertSnapshots: AlertSnapshots? = nil
        if let snapshotConnection {
            let snapshotLogger = CommandLogging.logger("sluice.snapshots")
            let service = SnapshotService(
                exporter: try SnapshotExporter(connection: snapshotConnection, schema: config.postgres.schema, logger: snapshotLogger),
                producer: try KafkaProducer(configuration: setup.producerConfiguration, logger: snapshotLogger),
                topic: config.outputs.retrainTopic, logger: snapshotLogger)
            alertSnapshots = AlertSnapshots(service: service, settings: config.snapshots, logger: snapshotLogger)
            if config.snapshots.onAlert {
                worker.setAlertSnapshots(alertSnapshots)
                joiner?.setAlertSnapshots(alertSnapshots)
            }
        }
        let watcher = ModelWatcher(
            registry: registry,
            listener: listener, name: config.model.name, shadow: config.model.shadow, pipelineFeatures: setup.featureNames,
            refreshInterval: config.model.refreshInterval, logger: logger, apply: { worker.setModels($0) })
        await watcher.refresh()
        let watching = Task { await watcher.run() }
        let signals = Task {
            let signal = await termination.wait()
            logger.info("stopping", metadata: ["signal": "\(signal)"])
            await worker.stop()  // the label joiner stops once the worker has returned (below)
        }
        defer { signals.cancel() }
        let idle = Task {
            guard let exitAfterIdle else { return }
            var last = (consumed: 0, at: ContinuousClock.now)
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let consumed = worker.counts.consumed
                if consumed != last.consumed {
                    last = (consumed, ContinuousClock.now)
                } else if consumed > 0, ContinuousClock.now - last.at >= .seconds(exitAfterIdle) {
                    logger.info("idle; stopping", metadata: ["seconds": "\(exitAfterIdle)"])
                    await worker.stop()
                    return
                }
            }
        }
        defer { idle.cancel() }
        logger.info("worker started", metadata: ["topics": "\(config.source.topics)", "group": "\(config.kafka.group)",
                                                 "features": "\(setup.featureNames.count)"])
        let joining = Task { try await joiner?.run() }
        let scheduling = Task { [alertSnapshots] in await alertSnapshots?.runSchedule(modelName: config.model.name) }
        defer { scheduling.cancel() }
        do {
            try await worker.run()
        } catch {
            await joiner?.stop()
            _ = await joining.result
            throw error
        }
        await joiner?.stop()
        try await joining.value
        watching.cancel()
        await watching.value
        await connection.close()
        await reader.close()
        await registryConnection.close()
        await listener.close()
        await labelsConnection?.close()
        scheduling.cancel()
        await alertSnapshots?.settle()
        await snapshotConnection?.close()
        let counts = worker.counts
        logger.info("worker exited", metadata: ["processed": "\(counts.processed)", "dead_lettered": "\(counts.deadLettered)"])
        do {
            let reasons = counts.deadLettered.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            if let labels = joiner?.counts, labels.consumed > 0 {
                let refused = labels.deadLettered.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                print("labels: consumed \(labels.consumed), joined \(labels.joined) to logged predictions, dead-lettered \(labels.deadLettered.values.reduce(0, +))\(refused.isEmpty ? "" : " (\(refused))"), concept-drift alerts \(labels.conceptAlerts)")
            }
            print("run: consumed \(counts.consumed) events, wrote \(counts.processed) to the feature store in \(counts.microBatches) transactions, published \(counts.predicted) predictions (model versions \(counts.modelVersions)), dead-lettered \(counts.deadLettered.values.reduce(0, +))\(reasons.isEmpty ? "" : " (\(reasons))")")
        }
    }
}
