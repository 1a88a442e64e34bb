import Dispatch

/// A serial executor backed by a dispatch queue it owns: an actor using it runs its methods on that queue's thread,
/// never on Swift's cooperative pool. Used by the snapshot file sinks, whose work is CPU-heavy and ends in blocking
/// file I/O (write, fsync).
final class SerialQueueExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
