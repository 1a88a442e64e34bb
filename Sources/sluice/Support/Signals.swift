import Dispatch
import Foundation

/// Waits for SIGTERM or SIGINT without a thread per signal; used by commands that run until stopped.
enum Signals {
    /// Suspends until SIGTERM or SIGINT arrives and returns the signal's name.
    static func waitForTermination() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let box = SignalSources(continuation: continuation)
            box.install()
        }
    }
}

/// Holds the dispatch signal sources until the first signal resumes the waiter.
///
/// `@unchecked Sendable`: `resumed` and `sources` are only touched on the serial `queue`.
private final class SignalSources: @unchecked Sendable {
    private let queue = DispatchQueue(label: "sluice.signals")
    private var sources: [any DispatchSourceSignal] = []
    private var continuation: CheckedContinuation<String, Never>?

    init(continuation: CheckedContinuation<String, Never>) {
        self.continuation = continuation
    }

    func install() {
        queue.sync {
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [self] in
                    continuation?.resume(returning: name)
                    continuation = nil
                    sources.forEach { $0.cancel() }
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
