import Foundation
import Logging
import Metrics
import SluicePostgres
import SluiceWorker
import Synchronization

/// `GET /readyz`: ready when PostgreSQL answers, the consumer has joined its group and been given an assignment,
/// and the configured model is loaded — and the process is not stopping. Each check says why it fails.
package actor Readiness {
    /// One check's outcome.
    package struct Check: Sendable, Encodable {
        package var ok: Bool
        package var detail: String
    }

    /// The checks by name (`postgres`, `kafka`, `model`, `lifecycle`) and their conjunction.
    package struct Report: Sendable, Encodable {
        package var ready: Bool
        package var checks: [String: Check]
    }

    private let connection: PostgresConnection
    private let worker: Worker
    private let modelName: String?
    private let timeout: Duration
    private var probe: Task<Check, Never>?
    private var stopping = false
    private let gauge = Gauge(label: WorkerMetrics.Name.ready)

    /// - Parameters:
    ///   - connection: A connection of its own (the check must not queue behind the worker's transactions).
    ///   - modelName: `model.name`; nil when the worker runs without a model.
    ///   - timeout: How long PostgreSQL may take to answer `SELECT 1`.
    package init(connection: PostgresConnection, worker: Worker, modelName: String?, timeout: Duration = .seconds(2)) {
        self.connection = connection
        self.worker = worker
        self.modelName = modelName
        self.timeout = timeout
    }

    /// From now on the process reports not ready (graceful shutdown has begun).
    package func markStopping() {
        stopping = true
        gauge.record(0)
    }

    package func report() async -> Report {
        var checks: [String: Check] = [:]
        checks["lifecycle"] = stopping ? Check(ok: false, detail: "shutting down") : Check(ok: true, detail: "running")
        checks["postgres"] = await postgres()
        let membership = worker.membershipState
        checks["kafka"] = membership.joined
            ? Check(ok: true, detail: "joined the consumer group; \(membership.partitions.count) partition(s) assigned\(worker.isPaused ? "; consumption paused" : "")")
            : Check(ok: false, detail: "the consumer has not been given an assignment by its group yet")
        if let modelName {
            if let champion = worker.currentModels.champion {
                checks["model"] = Check(ok: true, detail: "\(champion.name) version \(champion.version) loaded")
            } else {
                checks["model"] = Check(ok: false, detail: "no production version of model '\(modelName)' is loaded (register and promote one)")
            }
        } else {
            checks["model"] = Check(ok: true, detail: "no model configured (model.name unset): features only")
        }
        let ready = checks.values.allSatisfy(\.ok)
        gauge.record(ready ? 1 : 0)
        return Report(ready: ready, checks: checks)
    }

    /// `SELECT 1` within the timeout. A probe still running from an earlier request is waited for rather than
    /// queued behind, so a hung server makes every request fail fast instead of piling up.
    private func postgres() async -> Check {
        let task: Task<Check, Never>
        if let probe {
            task = probe
        } else {
            let connection = self.connection
            task = Task {
                do {
                    _ = try await connection.query("SELECT 1", retryIdempotent: true)
                    return Check(ok: true, detail: "reachable")
                } catch {
                    return Check(ok: false, detail: "unreachable: \(error)")
                }
            }
            probe = task
        }
        let result = await Self.value(of: task, within: timeout)
        guard let result else {
            return Check(ok: false, detail: "no answer to SELECT 1 within \(timeout)")
        }
        if probe == task { probe = nil }
        return result
    }

    /// The task's value, or nil when it takes longer than `timeout` (the task goes on; it is not cancelled).
    private static func value(of task: Task<Check, Never>, within timeout: Duration) async -> Check? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Check?, Never>) in
            let once = Once()
            let answer: @Sendable (Check?) -> Void = { value in
                if once.claim() { continuation.resume(returning: value) }
            }
            Task { answer(await task.value) }
            Task {
                try? await Task.sleep(for: timeout)
                answer(nil)
            }
        }
    }
}

/// True for the first caller of `claim()` only.
private final class Once: Sendable {
    private let claimed = Mutex(false)

    func claim() -> Bool {
        claimed.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
