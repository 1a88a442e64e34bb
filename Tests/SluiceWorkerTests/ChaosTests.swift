import Foundation
import SluiceKafka
import SluicePostgres
import Synchronization
import Testing

/// The chaos suite (issue 9): `sluice run` processes under crashes, broker faults, database faults, scale-out churn
/// and frozen zombies, each judged from the data — the store against the brute-force reference, exactly one
/// feature-log row per processed offset, every expected prediction id published (replays with the same score
/// only). `SLUICE_CHAOS=quick` (default) runs in `scripts/test`; `SLUICE_CHAOS=long` is `scripts/chaos`.
/// Each test appends its figures to `SLUICE_CHAOS_SUMMARY` (see `ChaosRecord`).
@Suite("Chaos", .timeLimit(.minutes(10)))
struct ChaosTests {
    let mode = ChaosMode.current

    /// Writes a worker config for `environment` to a temporary file.
    private static func writeConfig(_ environment: WorkerEnvironment, logLevel: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-chaos-\(environment.id)-\(UUID().uuidString.prefix(4)).yaml").path
        try environment.yaml(logLevel: logLevel).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// What every scenario starts from: a worker config for `environment` in a temporary file, an observer
    /// connection, the production model registered, and the first 2,000 events in `clock`'s first chunk.
    private struct Scene {
        let configPath: String
        let observer: PostgresConnection

        /// Removes the config file and closes the observer (in the background: a `defer` cannot await).
        func close() {
            try? FileManager.default.removeItem(atPath: configPath)
            Task { [observer] in await observer.close() }
        }
    }

    private static func scene(_ environment: WorkerEnvironment, seed: UInt64, clock: inout EventClock, logLevel: String = "error") async throws -> Scene {
        let configPath = try writeConfig(environment, logLevel: logLevel)
        let observer: PostgresConnection
        do {
            observer = try await environment.connect()
        } catch {
            try? FileManager.default.removeItem(atPath: configPath)
            throw error
        }
        let scene = Scene(configPath: configPath, observer: observer)
        do {
            try await environment.registerProductionModel(observer)
            try await environment.produce(2_000, seed: seed, startMillis: clock.chunk(2_000))
        } catch {
            scene.close()
            throw error
        }
        return scene
    }

    /// Produces `count` events in the background, in the next chunk of event time.
    private static func produce(_ environment: WorkerEnvironment, _ count: Int, seed: UInt64, clock: inout EventClock) -> Task<Void, any Error> {
        let start = clock.chunk(count)
        return Task { try await environment.produce(count, seed: seed, startMillis: start) }
    }

    // MARK: 1. Crash

    @Test func crashKillNineAtRandomInstants() async throws {
        let started = ContinuousClock.now
        var record = ChaosRecord(scenario: "crash")
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        var clock = EventClock()
        let scene = try await Self.scene(environment, seed: 1, clock: &clock)
        defer { scene.close() }
        let (configPath, observer) = (scene.configPath, scene.observer)

        let kills = mode.pick(quick: 4, long: 24)
        let perRound = mode.pick(quick: 1_000, long: 1_500)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<kills {
            let launched = ContinuousClock.now
            let worker = try WorkerProcess(configPath: configPath)
            let before = try await environment.committedEvents(observer)
            let chunkStart = clock.chunk(perRound)
            let producing = Task { try await environment.produce(perRound, seed: 100 + UInt64(round), startMillis: chunkStart) }
            try await waitFor("worker \(round) commits a micro-batch", timeout: .seconds(120)) { try await environment.committedEvents(observer) > before }
            // The restart recovered once it committed (it had to wait for the group to drop the killed member).
            if round > 0 { record.recovered(in: ContinuousClock.now - launched) }
            // A random instant while events flow.
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...500, using: &generator)))
            try await worker.killNine()
            try await producing.value
        }

        let last = try WorkerProcess(configPath: configPath)
        try await waitFor("the last worker claims every partition", timeout: .seconds(120)) {
            let claims = try await environment.claims(observer)
            return claims.count == environment.partitions && claims.values.allSatisfy { last.owns($0.owner) }
        }
        try await environment.waitUntilCaughtUp(observer)
        #expect(try await last.terminate() == 0, "SIGTERM exits 0")

        record.attempts = kills
        try record.finish(try await environment.expectStoreMatchesReference(observer, after: "\(kills) kills"),
                          tried: "\(kills) × kill -9 of `sluice run` at a random instant (0–500 ms after a commit) while events flow",
                          duplicates: "predictions of micro-batches acknowledged by Kafka but not yet committed to PostgreSQL at the kill, re-published on replay with the same id and score",
                          recovery: "restart (process launch) to its first committed micro-batch, including the group dropping the killed member", since: started)
    }

    // MARK: 2. Broker faults

    @Test func brokerFaultsAgainstARunningWorker() async throws {
        let started = ContinuousClock.now
        var record = ChaosRecord(scenario: "broker-faults")
        // A cluster of the test's own: a broker going down would disturb the tests sharing the common one.
        let cluster = try DevCluster(brokers: 3, logger: WorkerEnvironment.logger)
        let environment = try await WorkerEnvironment(partitions: 4, cluster: cluster)
        defer { Task { try? await environment.dropSchema() } }
        var clock = EventClock()
        let scene = try await Self.scene(environment, seed: 2, clock: &clock)
        defer { scene.close() }
        let (configPath, observer) = (scene.configPath, scene.observer)
        let worker = try WorkerProcess(configPath: configPath)
        try await environment.waitUntilCaughtUp(observer)

        var generator = SystemRandomNumberGenerator()
        var details: [String] = []
        for round in 0..<mode.pick(quick: 1, long: 3) {
            // Leader down: every partition of the input and predictions topics moves to one broker, which then goes
            // down while events are produced; it comes back after a random 1–3 s.
            let broker = Int32(round % 3 + 1)
            for partition in 0..<Int32(environment.partitions) {
                try cluster.setPartitionLeader(topic: environment.topic, partition: partition, brokerID: broker)
            }
            for partition in 0..<Int32(2) {
                try cluster.setPartitionLeader(topic: environment.predictionsTopic, partition: partition, brokerID: broker)
            }
            let moved = clock.chunk(500)
            try await environment.produce(500, seed: 200 + UInt64(round), startMillis: moved)
            try await environment.waitUntilCaughtUp(observer)
            try cluster.setBrokerDown(broker)
            let during = clock.chunk(1_000)
            let producing = Task { try await environment.produce(1_000, seed: 300 + UInt64(round), startMillis: during) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 1_000...3_000, using: &generator)))
            let committedAtHeal = try await environment.committedEvents(observer)
            try cluster.setBrokerUp(broker)
            record.recovered(in: try await timeUntil("the worker commits after broker \(broker) is back") {
                try await environment.committedEvents(observer) > committedAtHeal
            })
            try await producing.value
            #expect(worker.isRunning, "the worker survives leader \(broker) down and up")
            record.attempts += 2
            details.append("leaders of 6 partitions moved to broker \(broker), broker down 1–3 s and up")

            // Request errors on produce, fetch and offset commit while events flow.
            let chunk = clock.chunk(1_500)
            let flowing = Task { try await environment.produce(1_500, seed: 400 + UInt64(round), startMillis: chunk) }
            let before = try await environment.committedEvents(observer)
            try cluster.pushRequestErrors(.produce, errorName: "NOT_LEADER_FOR_PARTITION", count: 5)
            try cluster.pushRequestErrors(.fetch, errorName: "NOT_LEADER_FOR_PARTITION", count: 5)
            try cluster.pushRequestErrors(.offsetCommit, errorName: "REQUEST_TIMED_OUT", count: 3)
            record.recovered(in: try await timeUntil("the worker commits after the injected request errors") {
                try await environment.committedEvents(observer) > before
            })
            try await flowing.value
            try await environment.waitUntilCaughtUp(observer)
            #expect(worker.isRunning, "the worker survives injected request errors")
            record.attempts += 3
            details.append("5 produce + 5 fetch NOT_LEADER_FOR_PARTITION, 3 offset-commit REQUEST_TIMED_OUT")
        }
        try await environment.waitUntilCaughtUp(observer)
        #expect(worker.isRunning, "recovered without a restart")
        #expect(try await worker.terminate() == 0, "SIGTERM exits 0")

        try record.finish(try await environment.expectStoreMatchesReference(observer, after: "broker faults"),
                          tried: details.joined(separator: "; "),
                          duplicates: "predictions re-sent by the producer after an injected or down-broker error (same id and score)",
                          recovery: "broker up, or request errors injected, to the next committed micro-batch", since: started)
    }

    // MARK: 3. Database faults

    @Test func databaseFaultsAreRetriedAndReportedNotReady() async throws {
        let started = ContinuousClock.now
        var record = ChaosRecord(scenario: "database-faults")
        // A PostgreSQL of the test's own: restarting the shared one would break the other tests.
        let postgres = try await PrivatePostgres.start()
        defer { Task { await postgres.destroy() } }
        let environment = try await WorkerEnvironment(partitions: 4, postgresURL: postgres.url)
        var clock = EventClock()
        let scene = try await Self.scene(environment, seed: 3, clock: &clock, logLevel: "info")
        defer { scene.close() }
        let (configPath, observer) = (scene.configPath, scene.observer)
        let worker = try WorkerProcess(configPath: configPath)
        let port = try await worker.httpPort()
        try await waitFor("/readyz reports ready") { await httpGet(port: port, "/readyz")?.status == 200 }
        try await environment.waitUntilCaughtUp(observer)
        /// The committed events, or nil while PostgreSQL does not answer the observer.
        func committed() async -> Int64? { try? await environment.committedEvents(observer) }

        var generator = SystemRandomNumberGenerator()
        var details: [String] = []
        var readinessRecovery = Duration.zero
        var maxUncommitted = 0.0
        let flow = EventFlow(environment, clock: clock, seed: 500)
        for round in 0..<mode.pick(quick: 1, long: 3) {
            // Connections terminated: every session but the observer's, mid-stream.
            var before = try await environment.committedEvents(observer)
            try await waitFor("a micro-batch commits before the termination") { (await committed() ?? 0) > before }
            let terminated = try await observer.query("""
                SELECT count(pg_terminate_backend(pid))::int8 FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                """).first!.decode(Int64.self, column: 0)
            // The first time, all of the worker's sessions (writer, reader, registry, listener, readiness, …); after a
            // restart only those used since (the others reconnect lazily, on their next use).
            #expect(terminated >= (round == 0 ? 5 : 1), "the worker's sessions were terminated")
            before = await committed() ?? before
            record.recovered(in: try await timeUntil("the worker commits after its connections were terminated") { (await committed() ?? 0) > before })
            #expect(worker.isRunning, "the worker survives pg_terminate_backend: \(worker.log.suffix(2_000))")
            details.append("\(terminated) sessions terminated")

            // The offsets table locked against writes for a random 1–3 s while events flow (EXCLUSIVE: reads, the
            // observer's included, still go through): commits wait, then go through.
            let locker = try await environment.connect()
            try await locker.execute("BEGIN")
            try await locker.execute("LOCK TABLE \(environment.schema).consumer_offsets IN EXCLUSIVE MODE")
            try await waitFor("a micro-batch waits on the lock") {
                try await observer.query("SELECT count(*) FROM pg_locks WHERE NOT granted").first!.decode(Int64.self, column: 0) > 0
            }
            let lockedAt = try await environment.committedEvents(observer)
            try await Task.sleep(for: .milliseconds(Int.random(in: 1_000...3_000, using: &generator)))
            #expect(try await environment.committedEvents(observer) == lockedAt, "nothing commits while the table is locked")
            try await locker.execute("ROLLBACK")
            await locker.close()
            record.recovered(in: try await timeUntil("the worker commits after the lock is released") { (await committed() ?? 0) > lockedAt })
            #expect(worker.isRunning, "the worker survives a locked table: \(worker.log.suffix(2_000))")
            details.append("consumer_offsets locked 1–3 s")

            // PostgreSQL restarted mid-stream (fast or immediate shutdown), down for a random 1–4 s while events
            // keep arriving, a burst among them: /readyz says 503 meanwhile, consumption stops (bounded memory), and
            // the worker carries on.
            let shutdownMode = round % 2 == 0 ? "fast" : "immediate"
            before = try await environment.committedEvents(observer)
            try await waitFor("a micro-batch commits before the restart") { (await committed() ?? 0) > before }
            let committedAtStop = try await environment.committedEvents(observer)
            try await postgres.stop(mode: shutdownMode)
            try await waitFor("/readyz reports not ready while PostgreSQL is down") {
                guard let answer = await httpGet(port: port, "/readyz") else { return false }
                return answer.status == 503 && answer.body.contains(#""postgres":{"detail":"#)
            }
            let burst = mode.pick(quick: 3_000, long: 6_000)
            try await flow.produce(burst)
            let outageEnds = ContinuousClock.now + .milliseconds(Int.random(in: 1_000...4_000, using: &generator))
            while ContinuousClock.now < outageEnds {
                // Consumption pauses: what is consumed and not committed stays within the in-memory bound (a
                // pending and an in-flight micro-batch plus one poll).
                if let metrics = await httpGet(port: port, "/metrics")?.body {
                    let uncommitted = metricSum(metrics, "sluice_events_consumed_total") - metricSum(metrics, "sluice_events_processed_total")
                        - metricSum(metrics, "sluice_events_dead_lettered_total")
                    maxUncommitted = max(maxUncommitted, uncommitted)
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(worker.isRunning, "the worker waits for PostgreSQL instead of exiting: \(worker.log.suffix(2_000))")
            try await postgres.start()
            let restarted = ContinuousClock.now
            // Both from the server's start: /readyz back to 200, and the next committed micro-batch.
            var ready: Duration?, committedAgain: Duration?
            try await waitFor("/readyz reports ready and a micro-batch commits after the restart", timeout: .seconds(120)) {
                if ready == nil, await httpGet(port: port, "/readyz")?.status == 200 { ready = ContinuousClock.now - restarted }
                if committedAgain == nil, (await committed() ?? 0) > committedAtStop { committedAgain = ContinuousClock.now - restarted }
                return ready != nil && committedAgain != nil
            }
            readinessRecovery = max(readinessRecovery, ready!)
            record.recovered(in: committedAgain!)
            #expect(worker.isRunning, "the worker survives a PostgreSQL restart: \(worker.log.suffix(2_000))")
            record.attempts += 3
            details.append("PostgreSQL restarted (\(shutdownMode) shutdown) with a burst of \(burst) events arriving")
        }
        try await flow.stop()
        try await environment.waitUntilCaughtUp(observer)
        let bound = Double(2 * 2_000 + 2 * 500)
        #expect(maxUncommitted <= bound, "consumption pauses while PostgreSQL is down: \(maxUncommitted) events held, bound \(bound)")
        #expect(try await worker.terminate() == 0, "SIGTERM exits 0")

        try record.finish(try await environment.expectStoreMatchesReference(observer, after: "database faults"),
                          tried: details.joined(separator: "; ") + "; at most \(Int(maxUncommitted)) events held uncommitted during an outage",
                          duplicates: "predictions of a micro-batch whose transaction was cut by the fault, re-published when it was retried or replayed (same id and score)",
                          recovery: "fault end (sessions terminated, lock released, server started) to the next committed micro-batch; /readyz 200 again within \(String(format: "%.2f", readinessRecovery.seconds)) s of the server's start", since: started)
        try await environment.dropSchema()
        // Now rather than in the deferred task, which may not run before the test process exits.
        await postgres.destroy()
    }

    // MARK: 4. Scale-out

    @Test func scaleOutMembersJoinAndLeaveDuringTheStream() async throws {
        let started = ContinuousClock.now
        var record = ChaosRecord(scenario: "scale-out")
        let environment = try await WorkerEnvironment(partitions: 6)
        defer { Task { try? await environment.dropSchema() } }
        var clock = EventClock()
        let scene = try await Self.scene(environment, seed: 4, clock: &clock)
        defer { scene.close() }
        let (configPath, observer) = (scene.configPath, scene.observer)
        var workers = try (0..<3).map { _ in try WorkerProcess(configPath: configPath) }
        try await environment.waitForOwners(observer, count: 3, timeout: .seconds(120))

        var generator = SystemRandomNumberGenerator()
        let steps = mode.pick(quick: 2, long: 8)
        var graceful = 0, killed = 0
        for step in 0..<steps {
            let chunk = clock.chunk(1_500)
            let producing = Task { try await environment.produce(1_500, seed: 800 + UInt64(step), startMillis: chunk) }
            let before = try await environment.committedEvents(observer)
            try await waitFor("the group commits while events flow", timeout: .seconds(120)) { try await environment.committedEvents(observer) > before }
            // A member that holds partitions leaves: gracefully (SIGTERM) or not (kill -9), alternately.
            let claims = try await environment.claims(observer)
            let holders = workers.indices.filter { index in claims.values.contains { workers[index].owns($0.owner) } }
            let victimIndex = try #require(holders.randomElement(using: &generator), "some member holds partitions")
            let victim = workers.remove(at: victimIndex)
            let held = claims.filter { victim.owns($0.value.owner) }
            if step % 2 == 0 {
                #expect(try await victim.terminate() == 0, "a member leaving with SIGTERM exits 0")
                graceful += 1
            } else {
                try await victim.killNine()
                killed += 1
            }
            // Its partitions move: another member claims each of them (epoch bumped).
            record.recovered(in: try await timeUntil("the partitions of the member that left are claimed by another", timeout: .seconds(120)) {
                let now = try await environment.claims(observer)
                return held.allSatisfy { partition, claim in
                    guard let current = now[partition] else { return false }
                    return current.epoch > claim.epoch && workers.contains { $0.owns(current.owner) }
                }
            })
            // A new member joins.
            workers.append(try WorkerProcess(configPath: configPath))
            try await producing.value
        }
        try await environment.waitForOwners(observer, count: 3, timeout: .seconds(120))
        try await environment.waitUntilCaughtUp(observer)
        for worker in workers {
            #expect(try await worker.terminate() == 0, "SIGTERM exits 0")
        }

        record.attempts = 2 * steps
        try record.finish(try await environment.expectStoreMatchesReference(observer, after: "\(steps) members leaving and joining"),
                          tried: "3 members, 6 partitions; \(graceful) left with SIGTERM, \(killed) with kill -9, \(steps) joined",
                          duplicates: "predictions of a killed member's acknowledged but uncommitted micro-batch, re-published by the member that took the partition over (same id and score)",
                          recovery: "a member leaving to every partition it held being claimed by a surviving member (kill -9: includes the 6 s session timeout)", since: started)
    }

    // MARK: 5. Zombies

    @Test func aFrozenZombieIsFencedAndRejoins() async throws {
        let started = ContinuousClock.now
        var record = ChaosRecord(scenario: "zombie")
        let environment = try await WorkerEnvironment(partitions: 4)
        defer { Task { try? await environment.dropSchema() } }
        var clock = EventClock()
        let scene = try await Self.scene(environment, seed: 5, clock: &clock, logLevel: "info")
        defer { scene.close() }
        let (configPath, observer) = (scene.configPath, scene.observer)
        let zombie = try WorkerProcess(configPath: configPath)
        let peer = try WorkerProcess(configPath: configPath)
        try await environment.waitForOwners(observer, count: 2, timeout: .seconds(120))
        let zombiePort = try await zombie.httpPort()

        // Watches the claims all along: a partition's epoch and next offset never go backwards (a zombie's write
        // after the new owner's would move the offset back).
        let watching = Mutex(true)
        let regressions = Mutex<[String]>([])
        let watcherConnection = try await environment.connect()
        let watcher = Task {
            var last: [Int32: (epoch: Int64, next: Int64)] = [:]
            while watching.withLock({ $0 }) {
                for (partition, claim) in (try? await environment.claims(watcherConnection)) ?? [:] {
                    if let previous = last[partition], claim.epoch < previous.epoch || claim.nextOffset < previous.next {
                        regressions.withLock { $0.append("partition \(partition): epoch \(previous.epoch)→\(claim.epoch), next offset \(previous.next)→\(claim.nextOffset)") }
                    }
                    last[partition] = (claim.epoch, claim.nextOffset)
                }
                try? await Task.sleep(for: .milliseconds(25))
            }
        }

        var generator = SystemRandomNumberGenerator()
        let rounds = mode.pick(quick: 1, long: 3)
        var frozenFor = Duration.zero
        // Events keep arriving throughout, so the new owner has work on every partition it takes over.
        let flow = EventFlow(environment, clock: clock, seed: 900)
        for _ in 0..<rounds {
            try await environment.waitForOwners(observer, count: 2, timeout: .seconds(120))
            let before = try await environment.committedEvents(observer)
            try await waitFor("the pair commits while events flow") { try await environment.committedEvents(observer) > before }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...300, using: &generator)))
            let claims = try await environment.claims(observer)
            let held = claims.filter { zombie.owns($0.value.owner) }
            try #require(!held.isEmpty, "the worker to freeze holds partitions")
            zombie.signal(SIGSTOP)
            let frozen = ContinuousClock.now
            // Past the session timeout the group moves its partitions: the peer claims them and commits on them.
            try await waitFor("the peer claims the frozen worker's partitions and commits on them", timeout: .seconds(120)) {
                let now = try await environment.claims(observer)
                return held.allSatisfy { partition, claim in
                    guard let current = now[partition] else { return false }
                    return peer.owns(current.owner) && current.epoch > claim.epoch && current.nextOffset > claim.nextOffset
                }
            }
            frozenFor = max(frozenFor, ContinuousClock.now - frozen)
            zombie.signal(SIGCONT)
            // It resumes, finds itself fenced out, and rejoins: it holds partitions again.
            record.recovered(in: try await timeUntil("the resumed worker rejoins and claims partitions again", timeout: .seconds(120)) {
                try await environment.claims(observer).values.contains { zombie.owns($0.owner) }
            })
            #expect(zombie.isRunning, "the resumed worker carries on")
            record.attempts += 1
        }
        try await flow.stop()
        do {
            try await environment.waitUntilCaughtUp(observer)
        } catch {
            // One full-suite run timed out here (2026-11-24) and the logs went with the processes: keep them this time.
            Issue.record("zombie: \(zombie.logTail())\npeer: \(peer.logTail())")
            throw error
        }
        let fenced = Int(metricSum(await httpGet(port: zombiePort, "/metrics")?.body ?? "", "sluice_fenced_batches_total"))
        watching.withLock { $0 = false }
        await watcher.value
        await watcherConnection.close()
        #expect(regressions.withLock { $0 }.isEmpty, "epochs and offsets never go backwards: \(regressions.withLock { $0.prefix(5) })")
        #expect(try await zombie.terminate() == 0, "SIGTERM exits 0")
        #expect(try await peer.terminate() == 0, "SIGTERM exits 0")

        try record.finish(try await environment.expectStoreMatchesReference(observer, after: "\(rounds) zombie freezes"),
                          tried: "\(rounds) × SIGSTOP of a member for \(String(format: "%.1f", frozenFor.seconds)) s at most (session timeout 6 s), then SIGCONT; \(fenced) of its micro-batches fenced",
                          duplicates: "predictions the zombie published for a micro-batch that was then fenced, re-published by the new owner (same id and score)",
                          recovery: "SIGCONT to the resumed worker holding partitions again", since: started)
    }
}
