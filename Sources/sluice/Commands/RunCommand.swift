import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceConfiguration
import SluiceService
import SluiceWorker

/// `sluice run`: the worker, the label joiner, the model watcher, the snapshot schedule and the HTTP admin API,
/// as one service group.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the worker: consume events, compute features, score them, publish predictions, commit features with the offsets to PostgreSQL.",
        discussion: """
            SIGTERM or SIGINT stops consumption, commits what was processed, flushes the producer and exits 0 within \
            shutdown.timeout; a second signal or the timeout forces the exit (status 130 or 124) with a log line saying \
            what was abandoned. The HTTP admin API listens on http.address.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "Stop gracefully once no event has arrived for this many seconds after the first one (demos and scripts).")
    var exitAfterIdle: Double?

    func run() async throws {
        let config = try options.load()
        CommandLogging.bootstrap(level: config.logLevel)
        let logger = CommandLogging.logger("sluice.worker")
        // Catch signals before the slow start-up, so one that arrives now is not lost.
        let shutdown = ShutdownController(timeout: config.shutdown.timeout, logger: logger)
        PrometheusExport.bootstrap()
        let setup: WorkerSetup
        do {
            setup = try WorkerSetup(config: config)
        } catch {
            FileHandle.standardError.write(Data("invalid configuration \(options.path): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let app: SluiceApplication
        do {
            app = try await SluiceApplication(config: config, setup: setup, logger: logger, exitAfterIdle: exitAfterIdle)
        } catch let error as ServiceError {
            FileHandle.standardError.write(Data("invalid configuration \(options.path): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: app.services(), logger: logger))
        shutdown.attach(graceful: { await group.triggerGracefulShutdown() }, abandoned: { app.abandoned })
        logger.info("worker started", metadata: ["topics": "\(config.source.topics)", "group": "\(config.kafka.group)",
                                                 "features": "\(setup.featureNames.count)", "http": "\(config.http.address)"])
        do {
            try await group.run()
        } catch {
            await app.close()
            throw error
        }
        await app.close()
        let counts = app.worker.counts
        logger.info("worker exited", metadata: ["processed": "\(counts.processed)", "dead_lettered": "\(counts.deadLettered)"])
        let reasons = counts.deadLettered.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        if let labels = app.joiner?.counts, labels.consumed > 0 {
            let refused = labels.deadLettered.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("labels: consumed \(labels.consumed), joined \(labels.joined) to logged predictions, dead-lettered \(labels.deadLettered.values.reduce(0, +))\(refused.isEmpty ? "" : " (\(refused))"), concept-drift alerts \(labels.conceptAlerts)")
        }
        print("run: consumed \(counts.consumed) events, wrote \(counts.processed) to the feature store in \(counts.microBatches) transactions, published \(counts.predicted) predictions (model versions \(counts.modelVersions)), dead-lettered \(counts.deadLettered.values.reduce(0, +))\(reasons.isEmpty ? "" : " (\(reasons))")")
    }
}
