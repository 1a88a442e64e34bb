import Foundation
import SluiceConfiguration
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import SluiceWorker
import Testing

@Suite("Worker end to end", .serialized, .timeLimit(.minutes(8)))
struct WorkerTests {
    /// A stop that comes while the worker is still starting (SIGTERM right after start-up) ends `run()` without an
    /// error: nothing is consumed and nothing is committed.
    @Test func aStopBeforeTheWorkerSubscribesEndsItsRunCleanly() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        try await environment.produce(100, seed: 21, startMillis: Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let worker = try Worker(setup: try WorkerSetup(config: try environment.config()), connection: connection,
                                reader: try await environment.connect(), logger: WorkerEnvironment.logger)
        await worker.stop()
        try await worker.run()
        #expect(worker.counts.consumed == 0)
        #expect(try await environment.storedOffsets(try await environment.connect()).isEmpty)
    }

    /// A cache far smaller than the active entities: entities leave it and come back from the store, and the store
    /// still equals the brute-force reference (a dropped entity's committed state is its latest).
    @Test func anEntityCacheSmallerThanTheActiveEntitiesStillGivesTheReferenceStore() async throws {
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(3_000, seed: 13, startMillis: start, entities: 1_500)

        // Micro-batches of 300 events: each touches about 250 entities, which the next flushes may drop.
        let config = try SluiceConfig.load(yamlText: environment.yaml + "\nstate: {cache_max_entities: 100}\n",
                                           environment: ["SLUICE_FLUSH_MAX_EVENTS": "300"]).config
        #expect(config.state.cacheMaxEntities == 100)
        let setup = try WorkerSetup(config: config)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let worker = try Worker(setup: setup, connection: connection, reader: try await environment.connect(), logger: WorkerEnvironment.logger)
        let running = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        // The same entities again, later: most of them were dropped meanwhile and come back from the store.
        let firstRound = worker.counts
        try await environment.produce(3_000, seed: 14, startMillis: start + 600_000, entities: 1_500)
        try await environment.waitUntilCaughtUp(observer)
        await worker.stop()
        try await running.value

        let counts = worker.counts
        let stored = try await environment.storedFeatures(observer)
        #expect(firstRound.cacheEvictions > 300, "entities were dropped from the cache")
        // Each entity misses once when first seen; every miss beyond that reloaded a dropped entity's state. How many
        // come back depends on how the flushes group (251–400 seen); 100 is far above what chance would give with
        // no eviction (0).
        #expect(counts.cacheMisses - stored.count >= 100, "dropped entities were reloaded from the store")
        let outcome = try await environment.expectStoreMatchesReference(observer, after: "a cache of 100 entities", predictions: false)
        #expect(counts.processed == outcome.processed)
    }

    /// `state.new_entity_filter`: a new entity's first event is not looked up in the store, a stored entity's always
    /// is — also by a second worker that starts cold over the first one's store — and the store still equals the
    /// brute-force reference.
    @Test func theKeyFilterSkipsLookupsOnlyForEntitiesTheStoreDoesNotHold() async throws {
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        let config = try environment.config()
        #expect(config.state.newEntityFilter, "on by default")
        let setup = try WorkerSetup(config: config)
        let migrator = try await environment.connect()
        try await FeatureStoreMigrations.migrate(migrator, schema: environment.schema)
        let observer = try await environment.connect()

        func runWorker() async throws -> Worker.Counters {
            let worker = try Worker(setup: setup, connection: try await environment.connect(), reader: try await environment.connect(),
                                    logger: WorkerEnvironment.logger)
            let running = Task { try await worker.run() }
            try await environment.waitUntilCaughtUp(observer)
            await worker.stop()
            try await running.value
            return worker.counts
        }
        func storedKeys() async throws -> Set<String> { Set(try await environment.storedFeatures(observer).keys) }

        // An empty store: every miss is a new entity, and the filter answers nearly all of them (≈ 1 % false
        // positives at most are looked up).
        try await environment.produce(3_000, seed: 21, startMillis: start, entities: 1_500)
        let first = try await runWorker()
        let afterFirst = try await storedKeys()
        #expect(first.cacheMisses >= afterFirst.count, "each stored entity missed the cache once")
        #expect(first.skippedLookups <= first.cacheMisses)
        #expect(Double(first.skippedLookups) >= 0.95 * Double(afterFirst.count), "new entities were not looked up: \(first.skippedLookups) of \(afterFirst.count)")

        // A second worker over the same store, with more entities: the stored ones must be looked up (their state
        // continues), only the new ones may be skipped.
        try await environment.produce(3_000, seed: 22, startMillis: start + 600_000, entities: 3_000)
        let second = try await runWorker()
        let added = try await storedKeys().subtracting(afterFirst)
        #expect(!added.isEmpty)
        #expect(second.skippedLookups <= added.count, "a stored entity was never skipped: \(second.skippedLookups) skipped, \(added.count) new")
        #expect(Double(second.skippedLookups) >= 0.95 * Double(added.count))
        // Every stored entity with an event in the second round missed the second worker's cold cache and had to be
        // looked up.
        let seenAgain = try await observer.query("""
            SELECT count(DISTINCT entity) FROM \(environment.schema).feature_log
            WHERE event_time >= to_timestamp($1::float8 / 1000) AND entity = ANY($2::text[])
            """, [Double(start + 500_000), Array(afterFirst)])[0].decode(Int64.self, column: 0)
        #expect(seenAgain > 100)
        #expect(second.cacheMisses - second.skippedLookups >= Int(seenAgain), "stored entities seen again were looked up: \(seenAgain)")
        _ = try await environment.expectStoreMatchesReference(observer, after: "two workers with the key filter", predictions: false)
    }

    /// A running worker whose transactions are an hour apart unless a whole micro-batch (1,000 events) waits, and an
    /// observer connection.
    private static func startWorkerWithHourlyTransactions(_ environment: WorkerEnvironment) async throws
        -> (worker: Worker, running: Task<Void, any Error>, observer: PostgresConnection) {
        let config = try SluiceConfig.load(yamlText: environment.yaml, environment: [
            "SLUICE_FLUSH_MAX_EVENTS": "1000", "SLUICE_FLUSH_COMMIT_INTERVAL": "1h"]).config
        #expect(config.flush.commitInterval == .seconds(3_600))
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let worker = try Worker(setup: try WorkerSetup(config: config), connection: connection, reader: try await environment.connect(),
                                logger: WorkerEnvironment.logger)
        let running = Task { try await worker.run() }
        return (worker, running, try await environment.connect())
    }

    /// `flush.commit_interval` paces the transactions, not the micro-batches: bursts scored one after another wait
    /// for one transaction, a whole micro-batch waiting starts one at once, and the store still equals the reference.
    @Test func theCommitIntervalPacesTransactionsButNotMicroBatches() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        let (worker, running, observer) = try await Self.startWorkerWithHourlyTransactions(environment)

        // The first transaction starts at once (none has run yet).
        try await environment.produce(100, seed: 21, startMillis: start)
        try await waitFor("the first transaction") { worker.counts.microBatches >= 1 }
        let committedFirst = try await environment.committedEvents(observer)
        // Two more bursts, each scored and published on its own (a short poll closes its micro-batch) …
        for (burst, seed) in [(2, UInt64(22)), (3, UInt64(23))] {
            let scored = worker.counts.scoredBatches
            try await environment.produce(100, seed: seed, startMillis: start + Int64(burst) * 10_000)
            try await waitFor("burst \(burst) scored") { worker.counts.consumed == burst * 100 && worker.counts.scoredBatches > scored }
        }
        // … but not committed: the interval has not passed and less than a micro-batch waits.
        #expect(worker.counts.microBatches == 1, "one transaction for three scored bursts")
        #expect(try await environment.committedEvents(observer) == committedFirst)

        // A whole micro-batch waiting starts a transaction whatever the interval.
        try await environment.produce(1_000, seed: 24, startMillis: start + 40_000)
        try await waitFor("a transaction for a full micro-batch") { try await environment.committedEvents(observer) >= 1_000 }
        await worker.stop()
        try await running.value
        #expect(try await environment.committedEvents(observer) == 1_300, "stopping commits the rest")
        #expect(worker.counts.scoredBatches >= 4)
        #expect(worker.counts.microBatches < worker.counts.scoredBatches)
        let outcome = try await environment.expectStoreMatchesReference(observer, after: "paced transactions", predictions: false)
        #expect(outcome.duplicateLogRows == 0 && outcome.lost == 0)
    }

    /// An entity touched by several micro-batches of one transaction is serialized once for it, with its state after
    /// the last of them: a transaction starts on a micro-batch boundary and writes the states of every entity its
    /// batches touched, each once.
    @Test func entityStatesAreSerializedOncePerTransactionNotOncePerMicroBatch() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        let (worker, running, observer) = try await Self.startWorkerWithHourlyTransactions(environment)

        // Four bursts over the same 12 entities, each scored as a micro-batch of its own; the first commits at once,
        // the other three wait for one transaction (the interval is an hour), which stopping starts.
        try await environment.produce(100, seed: 31, startMillis: start, entities: 12)
        try await waitFor("the first transaction") { worker.counts.microBatches >= 1 }
        for (burst, seed) in [(2, UInt64(32)), (3, UInt64(33)), (4, UInt64(34))] {
            let scored = worker.counts.scoredBatches
            try await environment.produce(100, seed: seed, startMillis: start + Int64(burst) * 10_000, entities: 12)
            try await waitFor("burst \(burst) scored") { worker.counts.consumed == burst * 100 && worker.counts.scoredBatches > scored }
        }
        #expect(worker.counts.microBatches == 1)
        await worker.stop()
        try await running.value
        let counts = worker.counts
        #expect(counts.microBatches == 2, "two transactions")
        #expect(counts.scoredBatches >= 4, "at least one micro-batch per burst")

        // Each transaction's entities, from the feature log (`logged_at` is the transaction's start).
        let perTransaction = try await observer.query("""
            SELECT count(DISTINCT entity), count(*) FROM \(environment.schema).feature_log GROUP BY logged_at ORDER BY min(source_offset)
            """).map { (entities: try $0.decode(Int64.self, column: 0), rows: try $0.decode(Int64.self, column: 1)) }
        #expect(perTransaction.count == 2)
        #expect(perTransaction.allSatisfy { $0.entities <= 12 }, "\(perTransaction)")
        #expect(perTransaction.last!.rows > 250, "the last three bursts in the second transaction: \(perTransaction)")
        #expect(counts.serializedStates == Int(perTransaction.reduce(0) { $0 + $1.entities }),
                "one state per entity per transaction, not per micro-batch: \(perTransaction)")
        let outcome = try await environment.expectStoreMatchesReference(observer, after: "micro-batches of one transaction", predictions: false)
        #expect(outcome.duplicateLogRows == 0 && outcome.lost == 0)
    }

    @Test func featureStoreEqualsTheReferenceAndEveryEventIsWrittenOrDeadLetteredOnce() async throws {
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        try await environment.produce(6_000, seed: 11, startMillis: start)

        let config = try environment.config()
        let setup = try WorkerSetup(config: config)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        let running = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        await worker.stop()
        try await running.value

        let reference = try await ReferenceRun.compute(environment, setup: setup)
        #expect(reference.deadLettered > 10, "the stream holds malformed and late events")
        let stored = try await environment.storedFeatures(observer)
        #expect(stored.count == reference.features.count)
        for (entity, expected) in reference.features {
            #expect(stored[entity] == expected, "features of \(entity)")
        }

        let logRows = try await observer.query("SELECT source_partition, source_offset FROM \(environment.schema).feature_log")
        let logged = try logRows.map { "\(try $0.decode(Int32.self, column: 0))/\(try $0.decode(Int64.self, column: 1))" }
        #expect(logged.count == reference.processed, "one log row per processed event")
        #expect(Set(logged) == reference.processedOffsets)

        let counts = worker.counts
        #expect(counts.processed == reference.processed)
        #expect(counts.deadLettered.values.reduce(0, +) == reference.deadLettered)
        #expect(counts.deadLettered["late"] ?? 0 > 0, "late events are dead-lettered with reason late")

        // The dead-letter topic holds every bad event with its reason and source coordinates.
        let dlq = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: environment.brokers, groupID: "dlq-\(environment.id)"), logger: WorkerEnvironment.logger)
        try dlq.subscribe(topics: [environment.topic + ".dlq"])
        var letters: [KafkaMessage] = []
        for await event in dlq.events {
            switch event {
            case .messages(let batch): letters += batch
            case .partitionsAssigned(let assignment): assignment.start()
            case .partitionsRevoked(let revocation): revocation.done()
            case .error, .idle: break
            }
            if letters.count >= reference.deadLettered { break }
        }
        await dlq.close()
        #expect(letters.count == reference.deadLettered)
        let reasons = Set(letters.compactMap { letter in letter.headers.first { $0.name == "sluice.error.reason" }?.value.map { String(decoding: $0, as: UTF8.self) } })
        #expect(reasons == Set(EventDecodeError.Reason.allCases.map(\.rawValue)), "every dead-letter reason is produced by a real malformed event")
        for letter in letters {
            let headers = Dictionary(letter.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
            #expect(headers["sluice.source.topic"] == environment.topic)
            #expect(headers["sluice.error.reason"].map { EventDecodeError.Reason(rawValue: $0) != nil } == true)
            #expect(headers["sluice.error"]?.isEmpty == false)
            #expect(headers["sluice.source.offset"].flatMap(Int64.init) != nil)
        }
        await connection.close()
        await reader.close()
        await observer.close()
    }
}
