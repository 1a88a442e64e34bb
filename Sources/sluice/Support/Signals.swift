import Dispatch
import Foundation
import Synchronization

/// Catches SIGTERM and SIGINT from the moment it is created, so a signal that arrives during start-up is not
/// lost (or fatal): `wait()` returns at once for a signal that already came.
final class TerminationSignals: Sendable {
    private struct State {
        var received: String?
        var waiters: [CheckedContinuation<String, Never>] = []
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    private let queue = DispatchQueue(label: "sluice.signals")
    /// Kept alive for the life of the process; only touched on `queue` after `init`.
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    init() {
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [shared] in
                let waiters = shared.state.withLock { state -> [CheckedContinuation<String, Never>] in
                    if state.received == nil { state.received = name }
                    defer { state.waiters = [] }
                    return state.waiters
                }
                waiters.forEach { $0.resume(returning: name) }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal received; suspends until one arrives.
    func wait() async -> String {
        await withCheckedContinuation { continuation in
            let received = shared.state.withLock { state -> String? in
                if let received = state.received { return received }
                state.waiters.append(continuation)
                return nil
            }
            if let received { continuation.resume(returning: received) }
        }
    }
}

/// Waits for SIGTERM or SIGINT; for commands that run until stopped.
enum Signals {
    static func waitForTermination() async -> String {
        await TerminationSignals().wait()
    }
}
