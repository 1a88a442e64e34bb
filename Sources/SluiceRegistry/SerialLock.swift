import Synchronization

/// An async mutual-exclusion lock: one holder at a time, waiters served first come, first served.
///
/// The registry owns one PostgreSQL session, and a session can run only one transaction at a time; this lock lets
/// tasks share one `ModelRegistry` without interleaving their transactions. A waiter whose task is cancelled leaves
/// the queue and throws `CancellationError`.
final class SerialLock: Sendable {
    private struct State {
        var held = false
        var nextWaiter: UInt64 = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Runs `body` while holding the lock.
    /// - Throws: `CancellationError` if the task is cancelled while waiting, else `body`'s error.
    func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Action { case resume, cancel, wait }
                let action = state.withLock { state -> Action in
                    if Task.isCancelled { return .cancel }
                    if !state.held {
                        state.held = true
                        return .resume
                    }
                    state.waiters.append((id, continuation))
                    return .wait
                }
                switch action {
                case .resume: continuation.resume()
                case .cancel: continuation.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst().continuation  // the lock passes to it, still held
        }
        next?.resume()
    }
}
