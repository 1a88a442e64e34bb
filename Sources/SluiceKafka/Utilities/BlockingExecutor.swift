import Dispatch

/// Runs blocking librdkafka calls on a serial dispatch queue the client owns, never on Swift's cooperative pool,
/// and bridges the result back to async callers.
package final class BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    package init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the executor's queue and returns its result to the awaiting task.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `body` on the executor's queue and waits for it from the calling (non-async) thread.
    package func runSync<T>(_ body: () throws -> T) rethrows -> T {
        try queue.sync(execute: body)
    }
}
