import CRdKafka
import Dispatch
import Logging
import Synchronization

/// A consumer-group member over librdkafka with manual offset control.
///
/// librdkafka never commits or stores offsets by itself: the caller commits what it has processed with `commit`,
/// or keeps offsets elsewhere and answers each `.partitionsAssigned` event with the offsets to start from.
/// A poll thread owned by the consumer takes messages in batches and feeds `events`; it stays at most
/// `bufferedBatches` batches ahead of the caller. Blocking calls (commit, committed, seek, watermarks, close)
/// run on a serial queue the consumer owns.
package final class KafkaConsumer: Sendable {
    package let configuration: KafkaConsumerConfiguration
    /// Every event of this consumer: message batches, rebalances and errors. Iterate it from one task.
    package let events: KafkaConsumerEvents

    private let handle: RdKafkaHandle
    private let core: ConsumerCore
    private let blocking = BlockingExecutor(label: "sluice.kafka.consumer.blocking")
    private let pollThread: Mutex<PollThread?> = Mutex(nil)
    private let closed = Atomic<Bool>(false)

    /// Creates the consumer. Fails with `.configuration` for an unknown or invalid property.
    package init(configuration: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
        let (stream, continuation) = AsyncStream<KafkaConsumerEvent>.makeStream()
        // Counted up from 0, not created with the count: libdispatch traps when a semaphore is released below its
        // initial value, which is the case when the consumer goes away holding batches nobody read.
        let slots = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, configuration.bufferedBatches) { slots.signal() }
        let core = ConsumerCore(logger: logger, continuation: continuation, slots: slots,
                                rebalanceTimeoutMillis: configuration.rebalanceResponseTimeoutMillis,
                                batchSize: max(1, configuration.pollBatchSize),
                                pollTimeoutMillis: configuration.pollTimeoutMillis)
        self.handle = try RdKafkaHandle(type: RD_KAFKA_CONSUMER, properties: configuration.librdkafkaProperties, handler: core)
        rd_kafka_poll_set_consumer(handle.pointer)
        self.configuration = configuration
        self.core = core
        self.events = KafkaConsumerEvents(stream: stream, slots: slots)
    }

    deinit {
        pollThread.withLock { $0?.stop() }
        if !closed.load(ordering: .acquiring) {
            core.closing.store(true, ordering: .releasing)
            rd_kafka_consumer_close(handle.pointer)
        }
    }

    /// Joins the group for `topics` and starts polling.
    ///
    /// After `close()` (a stop that came while the caller was still starting up) it joins nothing and returns:
    /// `events` has ended or is about to, so the caller's loop finishes as it would after a stop.
    package func subscribe(topics: [String]) throws(KafkaError) {
        if closed.load(ordering: .acquiring) { return }
        let list = TopicPartitionList.make(topics.map { (KafkaTopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA), nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            // librdkafka answers _DESTROY when `close()` ran between the check above and the call.
            if closed.load(ordering: .acquiring) { return }
            throw KafkaError(code: .consumer, err, context: "could not subscribe to \(topics)")
        }
        startPolling()
    }

    private func startPolling() {
        pollThread.withLock { thread in
            // Checked under the lock `close()` reads the thread under, after it has set `closed`: either close sees
            // this thread and stops it, or no thread starts.
            guard thread == nil, !closed.load(ordering: .acquiring) else { return }
            let handle = self.handle
            let core = self.core
            thread = PollThread(name: "sluice-kafka-consumer-poll") {
                core.pollOnce(handle.pointer)
            }
        }
    }

    /// Commits `offsets` (each the next offset to read) for the group.
    /// - Parameter synchronously: wait for the coordinator's answer (default) or return at once.
    package func commit(_ offsets: [KafkaTopicPartitionOffset], synchronously: Bool = true) async throws {
        if offsets.isEmpty { return }
        let handle = self.handle
        let entries = offsets.map { ($0.topicPartition, Optional($0.offset)) }
        try await blocking.run {
            let list = TopicPartitionList.make(entries)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(handle.pointer, list, synchronously ? 0 : 1)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: .consumer, err, context: "could not commit offsets")
            }
            for (tp, _, error) in TopicPartitionList.read(list) where error != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: .consumer, error, context: "could not commit offset of \(tp)")
            }
        }
    }

    /// The group's committed offsets of `partitions` (nil where nothing is committed).
    package func committed(_ partitions: [KafkaTopicPartition], timeoutMillis: Int = 10_000) async throws -> [KafkaTopicPartition: Int64?] {
        let handle = self.handle
        return try await blocking.run {
            let list = TopicPartitionList.make(partitions.map { ($0, nil) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(handle.pointer, list, Int32(clamping: timeoutMillis))
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: .consumer, err, context: "could not read committed offsets")
            }
            var result: [KafkaTopicPartition: Int64?] = [:]
            for (tp, offset, _) in TopicPartitionList.read(list) {
                result[tp] = offset >= 0 ? offset : nil
            }
            return result
        }
    }

    /// Moves the fetch position of assigned partitions.
    package func seek(_ offsets: [KafkaTopicPartitionOffset], timeoutMillis: Int = 10_000) async throws {
        let handle = self.handle
        let entries = offsets.map { ($0.topicPartition, Optional($0.offset)) }
        try await blocking.run {
            let list = TopicPartitionList.make(entries)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            if let error = rd_kafka_seek_partitions(handle.pointer, list, Int32(clamping: timeoutMillis)) {
                defer { rd_kafka_error_destroy(error) }
                throw KafkaError(code: .consumer, rd_kafka_error_code(error), context: "could not seek")
            }
            for (tp, _, error) in TopicPartitionList.read(list) where error != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: .consumer, error, context: "could not seek \(tp)")
            }
        }
    }

    /// Stops fetching `partitions` without leaving the group (backpressure, human review).
    package func pause(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        try pauseOrResume(partitions, pause: true)
    }

    /// Resumes fetching paused `partitions`.
    package func resume(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        try pauseOrResume(partitions, pause: false)
    }

    private func pauseOrResume(_ partitions: [KafkaTopicPartition], pause: Bool) throws(KafkaError) {
        if partitions.isEmpty { return }
        let list = TopicPartitionList.make(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = pause ? rd_kafka_pause_partitions(handle.pointer, list) : rd_kafka_resume_partitions(handle.pointer, list)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .consumer, err, context: "could not \(pause ? "pause" : "resume") \(partitions)")
        }
    }

    /// Stops fetching every partition assigned now or later, without leaving the group (`POST /v1/pause`): the
    /// member keeps polling, so it keeps its partitions; batches fetched before the pause are still delivered.
    package func pauseAll() throws(KafkaError) {
        core.pausedAll.store(true, ordering: .sequentiallyConsistent)
        try pause(try assignment())
    }

    /// Undoes `pauseAll()`: every assigned partition fetches again from where it stopped.
    package func resumeAll() throws(KafkaError) {
        core.pausedAll.store(false, ordering: .sequentiallyConsistent)
        try resume(try assignment())
    }

    /// Whether `pauseAll()` is in effect.
    package var isPaused: Bool { core.pausedAll.load(ordering: .sequentiallyConsistent) }

    /// The partitions currently assigned to this member.
    package func assignment() throws(KafkaError) -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? = nil
        let err = rd_kafka_assignment(handle.pointer, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw KafkaError(code: .consumer, err, context: "could not read the assignment")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return TopicPartitionList.read(list).map(\.0).sorted()
    }

    /// The low and high watermarks of a partition, queried from its leader.
    package func watermarks(_ partition: KafkaTopicPartition, timeoutMillis: Int = 10_000) async throws -> (low: Int64, high: Int64) {
        let handle = self.handle
        return try await blocking.run {
            try Watermarks.query(handle.pointer, partition, timeoutMillis: timeoutMillis)
        }
    }

    /// The high watermark of a partition as last seen in a fetch response (no request to the broker); nil before
    /// the first fetch. For lag metrics: lag = high watermark − the next offset to process.
    package func cachedHighWatermark(_ partition: KafkaTopicPartition) -> Int64? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle.pointer, partition.topic, partition.partition, &low, &high)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil
    }

    /// Leaves the group and stops polling. Revocation during close is not reported as an event.
    package func close() async {
        if closed.exchange(true, ordering: .acquiringAndReleasing) { return }
        core.closing.store(true, ordering: .releasing)
        let thread = pollThread.withLock { $0 }
        let handle = self.handle
        let core = self.core
        _ = try? await blocking.run {
            thread?.stop()
            rd_kafka_consumer_close(handle.pointer)
            core.finish()
        }
    }
}

/// Queries watermark offsets (shared by the consumer and the admin client).
enum Watermarks {
    static func query(_ pointer: OpaquePointer, _ partition: KafkaTopicPartition, timeoutMillis: Int) throws -> (low: Int64, high: Int64) {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(pointer, partition.topic, partition.partition, &low, &high, Int32(clamping: timeoutMillis))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .admin, err, context: "could not query watermarks of \(partition)")
        }
        return (low, high)
    }
}

/// The consumer's poll-thread side: turns librdkafka batches and rebalances into events.
final class ConsumerCore: RdKafkaCallbackHandler {
    let logger: Logger
    let closing = Atomic<Bool>(false)
    /// Set by `pauseAll()`: partitions assigned while it holds are paused as soon as they are assigned.
    let pausedAll = Atomic<Bool>(false)
    private let continuation: AsyncStream<KafkaConsumerEvent>.Continuation
    private let slots: DispatchSemaphore
    private let rebalanceTimeoutMillis: Int
    private let batchSize: Int
    private let pollTimeoutMillis: Int32
    /// Reused between polls; only touched by the poll thread.
    private let buffer: PollBuffer

    init(logger: Logger, continuation: AsyncStream<KafkaConsumerEvent>.Continuation, slots: DispatchSemaphore,
         rebalanceTimeoutMillis: Int, batchSize: Int, pollTimeoutMillis: Int) {
        self.logger = logger
        self.continuation = continuation
        self.slots = slots
        self.rebalanceTimeoutMillis = rebalanceTimeoutMillis
        self.batchSize = batchSize
        self.pollTimeoutMillis = Int32(pollTimeoutMillis)
        self.buffer = PollBuffer(capacity: batchSize)
    }

    func finish() {
        continuation.finish()
    }

    /// One iteration of the poll loop: wait for a free slot, then take up to `batchSize` messages.
    func pollOnce(_ rk: OpaquePointer) {
        if slots.wait(timeout: .now() + .milliseconds(Int(pollTimeoutMillis))) == .timedOut {
            return
        }
        guard let queue = rd_kafka_queue_get_consumer(rk) else {
            slots.signal()
            return
        }
        defer { rd_kafka_queue_destroy(queue) }
        // librdkafka's batch call returns only when the batch is full or the timeout has passed, so one call would
        // hold the first message of a slow stream for up to the whole timeout. Instead the poll waits for one
        // message, then takes without waiting whatever else is already fetched.
        let count = buffer.messages.withUnsafeMutableBufferPointer { messages -> Int in
            let first = rd_kafka_consume_batch_queue(queue, pollTimeoutMillis, messages.baseAddress, 1)
            guard first == 1, messages.count > 1 else { return first }
            let rest = rd_kafka_consume_batch_queue(queue, 0, messages.baseAddress! + 1, messages.count - 1)
            return rest < 0 ? 1 : 1 + rest
        }
        if count <= 0 {
            slots.signal()
            if count < 0 {
                continuation.yield(.error(KafkaError(code: .consumer, rd_kafka_last_error(), context: "poll failed")))
            } else {
                continuation.yield(.idle)
            }
            return
        }
        var batch = KafkaMessageBatch()
        var totalBytes = 0
        for index in 0..<count {
            if let m = buffer.messages[index] { totalBytes += m.pointee.len + m.pointee.key_len }
        }
        batch.reserve(messages: count, bytes: totalBytes)
        var topics: [(OpaquePointer?, Int32)] = []
        for index in 0..<count {
            guard let message = buffer.messages[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = CString.string(rd_kafka_topic_name(message.pointee.rkt))
                continuation.yield(.error(KafkaError(code: .consumer, message.pointee.err, context: "fetch error on \(topic)/\(message.pointee.partition)")))
                continue
            }
            let rkt = message.pointee.rkt
            let topicIndex: Int32
            if let found = topics.first(where: { $0.0 == rkt }) {
                topicIndex = found.1
            } else {
                topicIndex = batch.addTopic(CString.string(rd_kafka_topic_name(rkt)))
                topics.append((rkt, topicIndex))
            }
            batch.append(message, topicIndex: topicIndex)
        }
        if batch.isEmpty {
            slots.signal()
        } else {
            continuation.yield(.messages(batch))
        }
    }

    func handleRebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = CString.string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let topicPartitions = TopicPartitionList.read(partitions).map(\.0)
        let isClosing = closing.load(ordering: .acquiring)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            var offsets: [KafkaTopicPartition: Int64] = [:]
            if !isClosing {
                let responder = RebalanceResponder()
                continuation.yield(.partitionsAssigned(KafkaPartitionAssignment(partitions: topicPartitions, responder: responder)))
                if let answer = responder.wait(timeoutMillis: rebalanceTimeoutMillis) {
                    offsets = answer
                } else {
                    logger.error("no answer to the partition assignment in time; starting from the group's committed offsets",
                                 metadata: ["partitions": "\(topicPartitions)", "timeout_ms": "\(rebalanceTimeoutMillis)"])
                }
            }
            if let elements = partitions.pointee.elems {
                for index in 0..<Int(partitions.pointee.cnt) {
                    let tp = KafkaTopicPartition(topic: CString.string(elements[index].topic), partition: elements[index].partition)
                    if let offset = offsets[tp] { elements[index].offset = offset }
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, partitions) {
                    logger.error("incremental assign failed", metadata: ["error": "\(CString.string(rd_kafka_error_string(error)))"])
                    rd_kafka_error_destroy(error)
                }
            } else {
                let result = rd_kafka_assign(rk, partitions)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.error("assign failed", metadata: ["error": "\(String(cString: rd_kafka_err2str(result)))"])
                }
            }
            if pausedAll.load(ordering: .sequentiallyConsistent) {
                let result = rd_kafka_pause_partitions(rk, partitions)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.error("could not pause newly assigned partitions", metadata: ["error": "\(String(cString: rd_kafka_err2str(result)))"])
                }
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if !isClosing {
                let responder = RebalanceResponder()
                continuation.yield(.partitionsRevoked(KafkaPartitionRevocation(partitions: topicPartitions, responder: responder)))
                if responder.wait(timeoutMillis: rebalanceTimeoutMillis) == nil {
                    logger.error("no answer to the partition revocation in time; releasing the partitions",
                                 metadata: ["partitions": "\(topicPartitions)"])
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(rk, nil)
            }
        default:
            logger.error("rebalance error", metadata: ["error": "\(String(cString: rd_kafka_err2str(err)))"])
            continuation.yield(.error(KafkaError(code: .consumer, err, context: "rebalance failed")))
            rd_kafka_assign(rk, nil)
        }
    }

    func handleClientError(_ error: KafkaError) {
        logger.warning("kafka consumer error", metadata: ["error": "\(error)"])
        continuation.yield(.error(error))
    }
}

/// The array librdkafka fills with message pointers on each poll.
///
/// `@unchecked Sendable`: only the single poll thread reads or writes `messages`.
private final class PollBuffer: @unchecked Sendable {
    var messages: [UnsafeMutablePointer<rd_kafka_message_t>?]
    init(capacity: Int) { messages = Array(repeating: nil, count: capacity) }
}
