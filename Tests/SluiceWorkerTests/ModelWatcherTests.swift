import Foundation
import SluiceConfiguration
import SluiceFeatureStore
import SluiceInference
import SluiceMonitoring
import SluicePostgres
import SluiceRegistry
import SluiceWorker
import Synchronization
import Testing

@Suite("Model watcher", .timeLimit(.minutes(2)))
struct ModelWatcherTests {
    @Test func followsProductionAndShadowAndKeepsTheOldModelWhenANewOneCannotScoreThePipeline() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let setup = try WorkerSetup(config: try environment.config())
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let registry = try ModelRegistry(connection: connection, schema: environment.schema, logger: WorkerEnvironment.logger)
        let applied = Mutex<[ScoringModels]>([])
        let watcher = ModelWatcher(registry: registry, listener: try await environment.connect(), name: "fraud", shadow: true,
                                   pipelineFeatures: setup.featureNames, refreshInterval: .seconds(3_600), logger: WorkerEnvironment.logger,
                                   apply: { models in applied.withLock { $0.append(models) } })

        // Nothing registered: nothing to apply, nothing scored.
        await watcher.refresh()
        #expect(watcher.versions.production == nil && watcher.versions.shadow == nil)
        #expect(applied.withLock { $0.isEmpty })

        _ = try await registry.register(name: "fraud", artifact: linearModelJSON(weights: [0.004, 0.3, -0.2, -0.0001], intercept: -1.5),
                                        format: nil, stage: .production, pipelineFeatures: setup.featureNames)
        _ = try await registry.register(name: "fraud", artifact: linearModelJSON(weights: [0.001, 0.1, 0.1, 0], intercept: 0.5),
                                        format: nil, pipelineFeatures: setup.featureNames)
        _ = try await registry.promote(name: "fraud", version: 2, to: .shadow)
        await watcher.refresh()
        let first = try #require(applied.withLock { $0.last })
        #expect(first.champion?.version == 1)
        #expect(first.challenger?.version == 2, "the shadow version scores as the challenger")
        let row = [Double](repeating: 1, count: 4)
        #expect(first.challenger?.model.predict(row: row) == (try linearModel(weights: [0.001, 0.1, 0.1, 0], intercept: 0.5)).predict(row: row))

        // A version whose inputs the pipeline does not produce (registered without the pipeline check) is
        // refused by the worker: the previous production keeps scoring.
        let foreign = #"{"format": "sluice-linear", "version": 1, "feature_names": ["amount", "not_a_feature"], "weights": [1, 2], "link": "logistic"}"#
        _ = try await registry.register(name: "fraud", artifact: Array(foreign.utf8), format: nil, stage: .production, pipelineFeatures: nil)
        await watcher.refresh()
        #expect(watcher.versions.production == 1)
        #expect(applied.withLock { $0.count } == 1, "nothing new applied")

        // Rolling back to version 1 is no change for the worker; archiving production leaves it unscored.
        _ = try await registry.rollback(name: "fraud")
        await watcher.refresh()
        #expect(applied.withLock { $0.count } == 1)
        _ = try await registry.archive(name: "fraud", version: 1)
        await watcher.refresh()
        #expect(applied.withLock { $0.last?.champion } == nil)
        #expect(watcher.versions.production == nil && watcher.versions.shadow == 2)
        await connection.close()
    }

    @Test func aReferenceBuiltFromLiveEventsIsStoredWithTheVersionAndGivenToTheNextWorker() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let config = try SluiceConfig.load(yamlText: environment.yaml + "\ndrift: {window: {kind: count, size: 1000}, step: 500, reference_events: 1500}\n",
                                           environment: [:]).config
        let setup = try WorkerSetup(config: config)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let registry = try ModelRegistry(connection: try await environment.connect(), schema: environment.schema, logger: WorkerEnvironment.logger)
        _ = try await registry.register(name: "fraud", artifact: linearModelJSON(weights: [0.004, 0.3, -0.2, -0.0001], intercept: -1.5),
                                        format: nil, stage: .production, pipelineFeatures: setup.featureNames)
        #expect(try await registry.reference(name: "fraud", version: 1) == nil, "registered without a reference")

        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        worker.setReferenceSink { name, version, profile in
            try? await registry.storeReference(name: name, version: version, profile: profile)
        }
        let watcher = ModelWatcher(registry: registry, listener: try await environment.connect(), name: "fraud", shadow: false,
                                   pipelineFeatures: setup.featureNames, refreshInterval: .seconds(3_600), logger: WorkerEnvironment.logger,
                                   apply: { worker.setModels($0) })
        await watcher.refresh()
        #expect(worker.currentModels.champion?.reference == nil)
        try await environment.produce(3_000, seed: 11, startMillis: Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000)
        let running = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        try await waitFor("the live reference stored in the registry") { try await registry.reference(name: "fraud", version: 1) != nil }
        await worker.stop()
        try await running.value

        let stored = try #require(try await registry.reference(name: "fraud", version: 1))
        #expect(stored.events == 1_500, "drift.reference_events events")
        #expect(stored.source.contains("live"))
        #expect(Set(stored.features.map(\.name)) == Set(setup.featureNames + ["score"]), "every pipeline feature and the score")
        let scored = worker.counts.predicted
        #expect(scored > 2_500, "most of the 3,000 events are valid and scored")
        #expect(worker.counts.driftEvaluations == (scored - 1_500) / 500, "one evaluation per 500 events scored after the reference")

        // The next worker (a restart, another replica) starts with the stored reference instead of building one.
        let next = Mutex<ScoringModels?>(nil)
        let restarted = ModelWatcher(registry: registry, listener: try await environment.connect(), name: "fraud", shadow: false,
                                     pipelineFeatures: setup.featureNames, refreshInterval: .seconds(3_600), logger: WorkerEnvironment.logger,
                                     apply: { models in next.withLock { $0 = models } })
        await restarted.refresh()
        #expect(next.withLock { $0?.champion?.reference } == stored)
        await connection.close()
        await reader.close()
        await observer.close()
    }
}
