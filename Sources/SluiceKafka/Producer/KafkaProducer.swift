import CRdKafka
import Logging
import Synchronization

/// An idempotent Kafka producer over librdkafka.
///
/// `send` waits for Kafka's acknowledgement and returns where the message landed; `sendBatch` does the same for
/// many messages with one suspension; `produce` is fire-and-forget with delivery outcomes counted. librdkafka's
/// delivery callbacks run on a poll thread the producer owns.
package final class KafkaProducer: Sendable {
    /// Counts of fire-and-forget outcomes.
    package struct DeliveryCounts: Sendable, Equatable {
        package var delivered: Int = 0
        package var failed: Int = 0

        package init(delivered: Int = 0, failed: Int = 0) {
            self.delivered = delivered
            self.failed = failed
        }
    }

    private let handle: RdKafkaHandle
    private let state: ProducerState
    private let pollThread: PollThread
    private let blocking = BlockingExecutor(label: "sluice.kafka.producer.blocking")
    /// A handle per topic, opened by `prepare(topics:)` or on the first message, kept for the producer's lifetime:
    /// a message names its topic by handle (no C string of the name, no lookup by name per message), and the
    /// topic's metadata stays known.
    private let topicHandles = Mutex<[String: RdKafkaTopicHandle]>([:])
    /// Topics whose metadata `prepare(topics:)` has read.
    private let preparedTopics = Mutex<Set<String>>([])
    private let isClosed = Atomic<Bool>(false)
    /// Largest message accepted, to reject oversized ones with a clear error before librdkafka does.
    package let maxMessageBytes: Int

    /// Creates the producer. Fails with `.configuration` for an unknown or invalid property.
    package init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        let state = ProducerState(logger: logger)
        let handle = try RdKafkaHandle(type: RD_KAFKA_PRODUCER, properties: configuration.librdkafkaProperties, handler: state)
        self.handle = handle
        self.state = state
        self.maxMessageBytes = configuration.maxMessageBytes
        self.pollThread = PollThread(name: "sluice-kafka-producer-poll") {
            rd_kafka_poll(handle.pointer, 100)
        }
    }

    deinit {
        pollThread.stop()
        // librdkafka wants every topic handle destroyed before its instance.
        topicHandles.withLock { $0.removeAll() }
    }

    /// Produces one message and waits until Kafka acknowledges it.
    /// - Returns: the partition and offset the message was written to.
    /// - Throws: `KafkaError` with `.produce` when librdkafka refuses the message, `.delivery` when Kafka does not
    ///   acknowledge it within `message.timeout.ms`.
    package func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        try await sendBatch([message])[0]
    }

    /// Produces messages (in order) and waits until Kafka has acknowledged every one of them.
    /// - Returns: a delivery report per message, in the order given.
    /// - Throws: the first failure, after all messages have settled, so the caller knows nothing is still in flight.
    package func sendBatch(_ messages: [KafkaProducerMessage]) async throws -> [KafkaDeliveryReport] {
        try await enqueueBatch(messages).acknowledged()
    }

    /// Produces messages (in order) without waiting: the returned value waits for their acknowledgements.
    /// Lets a caller queue one batch, do other work, and confirm delivery later; batches queued one after the
    /// other keep their order per partition.
    package func enqueueBatch(_ messages: [KafkaProducerMessage]) async -> KafkaDeliveries {
        let tracker = BatchDelivery(topics: messages.map(\.topic))
        // One lock and one table entry per batch: each message's opaque is the batch's id and its index.
        let batchID = state.register(tracker)
        // Consecutive messages mostly share a topic: its handle is looked up when the topic changes.
        var topic: (name: String, handle: RdKafkaTopicHandle?)? = nil
        for (index, message) in messages.enumerated() {
            let id = ProducerState.messageID(batch: batchID, index: index)
            if topic?.name != message.topic { topic = (message.topic, topicHandle(message.topic)) }
            do {
                try await enqueue(message, topic: topic!.handle, opaque: UnsafeMutableRawPointer(bitPattern: id))
            } catch {
                let kafkaError = error as? KafkaError ?? KafkaError(code: .produce, message: "\(error)")
                state.complete(id: id, partition: -1, offset: -1, error: kafkaError)
            }
        }
        return KafkaDeliveries(tracker: tracker, state: state)
    }

    /// Produces a message without waiting for its acknowledgement; the outcome is counted in `deliveryCounts`.
    /// Waits (without blocking a thread) while librdkafka's local queue is full.
    /// - Throws: `.produce` when librdkafka refuses the message outright (too large, unknown partition, closed).
    package func produce(_ message: KafkaProducerMessage) async throws {
        try await enqueue(message, topic: topicHandle(message.topic), opaque: nil)
    }

    /// The topic's handle, opened on first use; nil when librdkafka refuses the name (`enqueue` then fails the
    /// message with `.produce`).
    private func topicHandle(_ topic: String) -> RdKafkaTopicHandle? {
        topicHandles.withLock { handles in
            if let handle = handles[topic] { return handle }
            guard let pointer = rd_kafka_topic_new(handle.pointer, topic, nil) else { return nil }
            let opened = RdKafkaTopicHandle(pointer)
            handles[topic] = opened
            return opened
        }
    }

    /// Outcomes of fire-and-forget messages so far.
    package var deliveryCounts: DeliveryCounts { state.counts }

    /// Messages not yet acknowledged (librdkafka's out-queue length).
    package var inFlightCount: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    /// Waits until every queued message is acknowledged or failed.
    /// - Throws: `.timeout` if messages are still in flight after `timeoutMillis`.
    package func flush(timeoutMillis: Int) async throws {
        let handle = self.handle
        let err = try await blocking.run { rd_kafka_flush(handle.pointer, Int32(clamping: timeoutMillis)) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(code: .timeout, message: "\(rd_kafka_outq_len(handle.pointer)) messages still unacknowledged after flushing for \(timeoutMillis) ms", rdkafkaCode: err.rawValue)
        }
    }

    /// Reads the partitions and leaders of `topics` now, so the first message to each does not wait for a metadata
    /// request while later ones queue behind it (measured on the dev cluster: about 0.9 s for the first message to
    /// each topic, which held up the first micro-batch's commit and every batch's behind it).
    /// - Returns: the topics whose metadata could not be read (they may not exist yet; their first message then
    ///   asks for it as before), with the error.
    @discardableResult
    package func prepare(topics: [String], timeoutMillis: Int = 5_000) async -> [String: KafkaError] {
        let handle = self.handle
        var failed: [String: KafkaError] = [:]
        for topic in Set(topics).sorted() where !preparedTopics.withLock({ $0.contains(topic) }) {
            guard let topicHandle = topicHandle(topic) else {
                failed[topic] = KafkaError(code: .configuration, message: "could not open topic '\(topic)'")
                continue
            }
            do {
                try await blocking.run {
                    var raw: UnsafePointer<rd_kafka_metadata>? = nil
                    let err = rd_kafka_metadata(handle.pointer, 0, topicHandle.pointer, &raw, Int32(clamping: timeoutMillis))
                    let topicError = raw.map { $0.pointee.topic_cnt > 0 ? $0.pointee.topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART }
                        ?? RD_KAFKA_RESP_ERR_NO_ERROR
                    if let raw { rd_kafka_metadata_destroy(raw) }
                    let failure = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : topicError
                    guard failure == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        throw KafkaError(code: .timeout, failure, context: "could not read the metadata of topic '\(topic)'")
                    }
                }
                preparedTopics.withLock { _ = $0.insert(topic) }
            } catch {
                failed[topic] = error as? KafkaError ?? KafkaError(code: .timeout, message: "\(error)")
            }
        }
        return failed
    }

    /// Flushes and stops the producer; later sends fail with `.closed`.
    package func close(timeoutMillis: Int = 10_000) async throws {
        if isClosed.exchange(true, ordering: .acquiringAndReleasing) { return }
        defer { pollThread.stop() }
        try await flush(timeoutMillis: timeoutMillis)
    }

    private func enqueue(_ message: KafkaProducerMessage, topic: RdKafkaTopicHandle?, opaque: UnsafeMutableRawPointer?) async throws {
        if isClosed.load(ordering: .acquiring) {
            throw KafkaError(code: .closed, message: "the producer is closed; message to '\(message.topic)' not sent")
        }
        guard let topic else {
            throw KafkaError(code: .produce, message: "could not produce to '\(message.topic)': librdkafka refused the topic name (\(message.topic.utf8.count) bytes; it takes 1 to 512)")
        }
        let size = message.valueBytes.count + (message.keyBytes?.count ?? 0)
        if size > maxMessageBytes {
            throw KafkaError(code: .produce, message: "message of \(size) bytes to '\(message.topic)' exceeds message.max.bytes (\(maxMessageBytes)); raise kafka.producer.max_message_bytes (and the broker's limit) or send smaller messages", rdkafkaCode: RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue)
        }
        while true {
            let err = produceOnce(message, topic: topic, opaque: opaque)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                // Backpressure: librdkafka's bounded queue is full; wait for deliveries to drain it.
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            throw KafkaError(code: .produce, err, context: "could not produce to '\(message.topic)'")
        }
    }

    private func produceOnce(_ message: KafkaProducerMessage, topic: RdKafkaTopicHandle, opaque: UnsafeMutableRawPointer?) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.name, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
                }
            }
        }
        let partition = message.partition ?? RD_KAFKA_PARTITION_UA
        let err = message.valueBytes.withUnsafeBytes { value in
            withKey(message.keyBytes) { keyPointer, keyCount in
                sluice_produce(handle.pointer, topic.pointer, partition, keyPointer, keyCount,
                               value.baseAddress, value.count, headers, message.timestampMillis ?? 0, opaque)
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
            rd_kafka_headers_destroy(headers)
        }
        return err
    }

    private func withKey<R>(_ key: ArraySlice<UInt8>?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
        guard let key else { return body(nil, 0) }
        return key.withUnsafeBytes { body($0.baseAddress, $0.count) }
    }
}

/// Tracks the outcome of one `sendBatch` call. Only touched under `ProducerState`'s lock.
/// Messages queued by `KafkaProducer.enqueueBatch`, waiting for Kafka's acknowledgements.
package struct KafkaDeliveries: Sendable {
    fileprivate let tracker: BatchDelivery
    fileprivate let state: ProducerState

    /// The number of messages in the batch.
    package var count: Int { tracker.topics.count }

    /// Waits until every message has settled. Several tasks may wait for the same batch.
    /// - Returns: a delivery report per message, in the order given.
    /// - Throws: the first failure, after all messages have settled.
    package func acknowledged() async throws -> [KafkaDeliveryReport] {
        try await settled()
        return state.reports(of: tracker)
    }

    /// Waits until every message has settled, like `acknowledged()`, without building the reports.
    /// - Throws: the first failure (in message order), after all messages have settled.
    package func settled() async throws {
        if count == 0 { return }
        await withCheckedContinuation { continuation in
            state.wait(for: tracker, continuation: continuation)
        }
        if let error = state.firstError(of: tracker) { throw error }
    }
}

/// Where the messages of one `enqueueBatch` call landed. Only touched under `ProducerState`'s lock.
final class BatchDelivery: @unchecked Sendable {
    let topics: [String]
    var partitions: [Int32]
    var offsets: [Int64]
    /// Failures by message index (usually none).
    var errors: [Int: KafkaError] = [:]
    var remaining: Int
    /// Everyone waiting for the batch (`KafkaDeliveries.acknowledged()` may be awaited more than once).
    var continuations: [CheckedContinuation<Void, Never>] = []

    init(topics: [String]) {
        self.topics = topics
        self.partitions = Array(repeating: -1, count: topics.count)
        self.offsets = Array(repeating: -1, count: topics.count)
        self.remaining = topics.count
    }
}

/// The producer's mutable state, shared with librdkafka's delivery callback.
final class ProducerState: RdKafkaCallbackHandler {
    private struct State {
        var nextBatch: UInt = 1
        var batches: [UInt: BatchDelivery] = [:]
        var counts = KafkaProducer.DeliveryCounts()
    }

    /// A message's opaque id: its batch in the high bits, its index in the batch in the low `indexBits`.
    private static let indexBits: UInt = 28
    /// A message's opaque id (never 0, which marks fire-and-forget messages).
    static func messageID(batch: UInt, index: Int) -> UInt {
        precondition(index < 1 << indexBits, "a batch of more than \(1 << indexBits) messages")
        return batch << indexBits | UInt(index)
    }

    let logger: Logger
    private let state = Mutex(State())

    init(logger: Logger) {
        self.logger = logger
    }

    var counts: KafkaProducer.DeliveryCounts { state.withLock { $0.counts } }

    /// Resumes `continuation` once every message of `tracker` has settled (at once if they all have); any number
    /// of waiters may wait for the same batch.
    func wait(for tracker: BatchDelivery, continuation: CheckedContinuation<Void, Never>) {
        let done = state.withLock { _ in
            if tracker.remaining == 0 { return true }
            tracker.continuations.append(continuation)
            return false
        }
        if done { continuation.resume() }
    }

    /// The first failure of a settled batch, in message order.
    func firstError(of tracker: BatchDelivery) -> KafkaError? {
        state.withLock { _ in tracker.errors.min { $0.key < $1.key }?.value }
    }

    /// The delivery reports of a settled batch that has no failure.
    func reports(of tracker: BatchDelivery) -> [KafkaDeliveryReport] {
        state.withLock { _ in
            (0..<tracker.topics.count).map { KafkaDeliveryReport(topic: tracker.topics[$0], partition: tracker.partitions[$0], offset: tracker.offsets[$0]) }
        }
    }

    /// Registers a batch; returns its id for `messageID(batch:index:)`.
    func register(_ tracker: BatchDelivery) -> UInt {
        state.withLock { state in
            let id = state.nextBatch
            state.nextBatch += 1
            if state.nextBatch >= 1 << (UInt(UInt.bitWidth) - Self.indexBits) { state.nextBatch = 1 }
            if tracker.remaining > 0 { state.batches[id] = tracker }
            return id
        }
    }

    func complete(id: UInt, partition: Int32, offset: Int64, error: KafkaError?) {
        let continuations: [CheckedContinuation<Void, Never>] = state.withLock { state in
            let batch = id >> Self.indexBits
            let index = Int(id & (1 << Self.indexBits - 1))
            guard let tracker = state.batches[batch], index < tracker.topics.count, tracker.partitions[index] == -1, tracker.errors[index] == nil else { return [] }
            if let error {
                tracker.errors[index] = error
            } else {
                tracker.partitions[index] = partition
                tracker.offsets[index] = offset
            }
            tracker.remaining -= 1
            guard tracker.remaining == 0 else { return [] }
            state.batches[batch] = nil
            defer { tracker.continuations = [] }
            return tracker.continuations
        }
        for continuation in continuations { continuation.resume() }
    }

    func handleDelivery(_ message: UnsafePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let id = UInt(bitPattern: m._private)
        var error: KafkaError? = nil
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let topic = CString.string(rd_kafka_topic_name(m.rkt))
            error = KafkaError(code: .delivery, m.err, context: "message to '\(topic)' was not acknowledged")
        }
        if id == 0 {
            state.withLock { state in
                if error == nil { state.counts.delivered += 1 } else { state.counts.failed += 1 }
            }
            if let error {
                logger.error("fire-and-forget delivery failed", metadata: ["error": "\(error)"])
            }
            return
        }
        complete(id: id, partition: m.partition, offset: m.offset, error: error)
    }

    func handleClientError(_ error: KafkaError) {
        logger.warning("kafka producer error", metadata: ["error": "\(error)"])
    }
}

/// A librdkafka topic handle (`rd_kafka_topic_t`), destroyed with its last reference.
final class RdKafkaTopicHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { rd_kafka_topic_destroy(pointer) }
}
