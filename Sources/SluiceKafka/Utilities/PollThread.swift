import Dispatch
import Foundation
import Synchronization

/// A dedicated OS thread running a poll loop over librdkafka until stopped. librdkafka's polls block for up to
/// their timeout, so they run here instead of on Swift's cooperative pool.
package final class PollThread: Sendable {
    private final class Control: Sendable {
        let stopRequested = Atomic<Bool>(false)
        let exited = DispatchSemaphore(value: 0)
    }

    private let control = Control()

    /// Starts a thread named `name` that calls `iteration` until `stop()` is called; `iteration` should block
    /// for at most about 100 ms so that stopping is prompt.
    package init(name: String, iteration: @escaping @Sendable () -> Void) {
        let control = self.control
        let thread = Thread {
            while !control.stopRequested.load(ordering: .acquiring) {
                iteration()
            }
            control.exited.signal()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Whether `stop()` has been called.
    package var isStopping: Bool { control.stopRequested.load(ordering: .acquiring) }

    /// Asks the loop to end and waits for the thread to leave it. Later calls return at once. Never call it
    /// from the poll thread itself.
    package func stop() {
        if control.stopRequested.exchange(true, ordering: .acquiringAndReleasing) { return }
        control.exited.wait()
    }
}
