import Logging
import SluiceMonitoring
import SluicePostgres
import SluiceRegistry
import Synchronization

/// Keeps a worker's scoring models equal to the registry's production (and, when configured, shadow) versions
/// of one model name. A promote or rollback commits with a NOTIFY on `ModelRegistry.notificationChannel`; the
/// watcher hears it on its own connection, loads the new version (verifying its sha256) off the consumer loop,
/// and hands the ready model to the worker, which takes it at the next micro-batch: consumption never waits
/// for a load. A periodic check (`model.refresh_interval`) catches notifications lost with a connection.
package final class ModelWatcher: Sendable {
    private let registry: ModelRegistry
    private let listener: PostgresConnection
    private let name: String
    private let scoreShadow: Bool
    private let pipelineFeatures: [String]
    private let refreshInterval: Duration
    private let logger: Logger
    private let apply: @Sendable (ScoringModels) -> Void
    /// The versions the worker scores with now.
    private let loaded = Mutex<(production: Int?, shadow: Int?)>((nil, nil))

    /// - Parameters:
    ///   - registry: the registry to read versions and artifacts from.
    ///   - listener: a connection of its own for LISTEN (it is held for the watcher's lifetime).
    ///   - apply: receives each new set of models (the worker's `setModels`).
    package init(registry: ModelRegistry, listener: PostgresConnection, name: String, shadow: Bool, pipelineFeatures: [String],
                 refreshInterval: Duration, logger: Logger, apply: @escaping @Sendable (ScoringModels) -> Void) {
        self.registry = registry
        self.listener = listener
        self.name = name
        self.scoreShadow = shadow
        self.pipelineFeatures = pipelineFeatures
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.apply = apply
    }

    /// The production and shadow versions in use.
    package var versions: (production: Int?, shadow: Int?) { loaded.withLock { $0 } }

    /// Brings the models up to date with the registry once. A version that cannot be used (its artifact fails
    /// its checksum, or it needs features the pipeline lacks) is logged and the previous one keeps scoring.
    package func refresh() async {
        do {
            let current = try await registry.currentVersions(name: name)
            let wanted = (production: current.production, shadow: scoreShadow ? current.shadow : nil)
            let have = loaded.withLock { $0 }
            guard wanted.production != have.production || wanted.shadow != have.shadow else { return }
            var models = ScoringModels()
            if wanted.production != nil {
                models.champion = try await load(.production)
            }
            if wanted.shadow != nil {
                models.challenger = try await load(.shadow)
            }
            if wanted.production == nil {
                logger.warning("no production version of the model; events are not scored until one is promoted", metadata: ["model": "\(name)"])
            }
            loaded.withLock { $0 = (models.champion?.version, models.challenger?.version) }
            apply(models)
            logger.info("scoring models changed", metadata: [
                "model": "\(name)", "production": "\(models.champion.map { String($0.version) } ?? "none")",
                "shadow": "\(models.challenger.map { String($0.version) } ?? "none")"])
        } catch {
            logger.error("could not load the registry's current model; the previous one keeps scoring", metadata: ["model": "\(name)", "error": "\(error)"])
        }
    }

    private func load(_ stage: ModelStage) async throws -> ScoringModel? {
        guard let (info, model) = try await registry.load(name: name, stage: stage) else { return nil }
        var reference: ReferenceProfile?
        do {
            reference = try await registry.reference(name: info.name, version: info.version)
        } catch {
            // The model still scores; the drift monitor builds a reference from live events instead.
            logger.error("could not read the model version's drift reference; one is built from live events", metadata: [
                "model": "\(info.name)", "version": "\(info.version)", "error": "\(error)"])
        }
        return try ScoringModel(name: info.name, version: info.version, model: model, pipelineFeatures: pipelineFeatures, reference: reference)
    }

    /// Refreshes on every notification naming this model and every `refreshInterval`, until cancelled.
    package func run() async {
        let (requests, requested) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                var failures = 0
                while !Task.isCancelled {
                    do {
                        let notifications = try await listener.listen(channel: ModelRegistry.notificationChannel)
                        failures = 0
                        // A change may have been committed while we were not listening.
                        requested.yield()
                        for try await notification in notifications where notification.payload == name {
                            requested.yield()
                        }
                    } catch {
                        if Task.isCancelled { break }
                        failures += 1
                        logger.warning("model notifications interrupted; reconnecting", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: .milliseconds(min(10_000, 200 << min(failures, 6))))
                    }
                }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: refreshInterval)
                    requested.yield()
                }
            }
            group.addTask { [self] in
                for await _ in requests {
                    if Task.isCancelled { break }
                    await refresh()
                }
            }
            await group.next()
            group.cancelAll()
            requested.finish()
        }
    }
}
