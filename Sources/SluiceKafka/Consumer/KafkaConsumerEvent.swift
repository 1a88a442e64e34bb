import Dispatch
import Synchronization

/// What a `KafkaConsumer` delivers, in the order it happened.
package enum KafkaConsumerEvent: Sendable {
    /// Messages from one poll, in offset order per partition.
    case messages(KafkaMessageBatch)
    /// The group gave this member partitions. Consumption of them starts once `start(at:)` is called (or the
    /// consumer's rebalance response timeout passes, in which case the broker's committed offsets are used).
    case partitionsAssigned(KafkaPartitionAssignment)
    /// The group takes partitions away. Finish and persist the work for them, then call `done()`; they are
    /// released when `done()` is called or the rebalance response timeout passes.
    case partitionsRevoked(KafkaPartitionRevocation)
    /// A client-level error (brokers unreachable, fetch error). Consumption goes on; librdkafka retries.
    case error(KafkaError)
    /// A poll found no message: the stream is quiet. Lets the caller act on time (e.g. flush a partial batch)
    /// without a timer of its own. Only sent while the caller keeps up, at most once per poll timeout.
    case idle
}

/// Lets the poll thread wait for the Swift side's answer to a rebalance, with a deadline.
final class RebalanceResponder: Sendable {
    private let answered = DispatchSemaphore(value: 0)
    private let offsets = Mutex<[KafkaTopicPartition: Int64]?>(nil)

    func answer(_ offsets: [KafkaTopicPartition: Int64]) {
        let first = self.offsets.withLock { current -> Bool in
            guard current == nil else { return false }
            current = offsets
            return true
        }
        if first { answered.signal() }
    }

    /// Waits up to `timeoutMillis`; nil when nobody answered in time.
    func wait(timeoutMillis: Int) -> [KafkaTopicPartition: Int64]? {
        if answered.wait(timeout: .now() + .milliseconds(timeoutMillis)) == .timedOut { return nil }
        return offsets.withLock { $0 }
    }
}

/// Partitions newly assigned to this member; answer with `start(at:)`.
package struct KafkaPartitionAssignment: Sendable {
    package let partitions: [KafkaTopicPartition]
    let responder: RebalanceResponder

    /// Starts consuming the assigned partitions. Partitions named in `offsets` start at that offset (the next one to
    /// read, e.g. from the caller's own store); the others start at the group's committed offset or `auto.offset.reset`.
    package func start(at offsets: [KafkaTopicPartition: Int64] = [:]) {
        responder.answer(offsets)
    }
}

/// Partitions being taken from this member; call `done()` once their work is persisted.
package struct KafkaPartitionRevocation: Sendable {
    package let partitions: [KafkaTopicPartition]
    let responder: RebalanceResponder

    /// Releases the partitions to the group.
    package func done() {
        responder.answer([:])
    }
}

/// The consumer's events as an `AsyncSequence` with a single iterator. Taking a `.messages` event frees a slot
/// for the poll thread, which fetches at most `bufferedBatches` batches ahead of the caller (backpressure).
package struct KafkaConsumerEvents: AsyncSequence, Sendable {
    package typealias Element = KafkaConsumerEvent
    let stream: AsyncStream<KafkaConsumerEvent>
    let slots: DispatchSemaphore

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<KafkaConsumerEvent>.Iterator
        let slots: DispatchSemaphore

        package mutating func next() async -> KafkaConsumerEvent? {
            let event = await base.next()
            if case .messages = event { slots.signal() }
            return event
        }
    }

    package func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), slots: slots)
    }
}
