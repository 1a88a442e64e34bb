import Dispatch
import Foundation
import Logging
import Synchronization

/// SIGTERM and SIGINT for `sluice run`: the first starts a graceful shutdown (stop consuming, drain, commit,
/// flush, exit 0); a second signal, or the shutdown taking longer than `shutdown.timeout`, forces the exit
/// with a log line saying what was abandoned.
///
/// Signals are caught from the moment it is made, so one that arrives during start-up is not lost: the
/// shutdown starts as soon as the services run.
package final class ShutdownController: Sendable {
    /// Exit status of a shutdown that ran past `shutdown.timeout`.
    package static let timeoutExitCode: Int32 = 124
    /// Exit status of a shutdown cut short by a second signal.
    package static let secondSignalExitCode: Int32 = 130

    private struct State {
        var signals = 0
        var graceful: (@Sendable () async -> Void)?
        var abandoned: @Sendable () -> String = { "nothing started yet" }
        var requested = false
    }

    private let state = Mutex(State())
    private let timeout: Duration
    private let logger: Logger
    private let queue = DispatchQueue(label: "sluice.shutdown")
    /// Kept alive for the life of the process; only touched on `queue` after `init`.
    private nonisolated(unsafe) var sources: [any DispatchSourceSignal] = []

    package init(timeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.received(name) }
            source.resume()
            sources.append(source)
        }
    }

    /// Connects the controller to the running services: `graceful` starts their graceful shutdown, `abandoned`
    /// describes what a forced exit would leave behind. A signal received before this call takes effect now.
    package func attach(graceful: @escaping @Sendable () async -> Void, abandoned: @escaping @Sendable () -> String) {
        let pending = state.withLock { state -> Bool in
            state.graceful = graceful
            state.abandoned = abandoned
            return state.requested
        }
        if pending { Task { await graceful() } }
    }

    /// Starts a graceful shutdown as a signal would (e.g. the worker stopped by itself), with the same deadline.
    package func requestShutdown(reason: String) {
        begin(reason)
    }

    private func received(_ name: String) {
        let count = state.withLock { state -> Int in
            state.signals += 1
            return state.signals
        }
        if count == 1 {
            begin(name)
        } else {
            force(reason: "second signal (\(name)) during the graceful shutdown", code: Self.secondSignalExitCode)
        }
    }

    private func begin(_ reason: String) {
        let graceful = state.withLock { state -> (@Sendable () async -> Void)?? in
            guard !state.requested else { return .none }
            state.requested = true
            return .some(state.graceful)
        }
        guard case .some(let action) = graceful else { return }
        logger.notice("stopping: consumption stops, in-flight micro-batches are committed, the producer is flushed",
                      metadata: ["reason": "\(reason)", "timeout": "\(timeout)"])
        if let action { Task { await action() } }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        queue.asyncAfter(deadline: .now() + seconds) { [self] in
            force(reason: "the graceful shutdown took longer than shutdown.timeout (\(timeout))", code: Self.timeoutExitCode)
        }
    }

    /// Exits now with `code`, after logging what is abandoned.
    private func force(reason: String, code: Int32) {
        let abandoned = state.withLock { $0.abandoned }()
        logger.critical("forced exit", metadata: ["reason": "\(reason)", "abandoned": "\(abandoned)", "exit_code": "\(code)"])
        fflush(nil)  // every open output stream
        _exit(code)
    }
}
