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
        let tracker = BatchDelivery(count: messages.count)
        for (index, message) in messages.enumerated() {
            let id = state.nextID(tracker: tracker, index: index)
            do {
                try await enqueue(message, opaque: UnsafeMutableRawPointer(bitPattern: id))
            } catch {
                let kafkaError = error as? KafkaError ?? KafkaError(code: .produce, message: "\(error)")
                state.complete(id: id, with: .failure(kafkaError))
            }
        }
        return KafkaDeliveries(tracker: tracker, state: state, count: messages.count)
    }

    /// Produces a message without waiting for its acknowledgement; the outcome is counted in `deliveryCounts`.
    /// Waits (without blocking a thread) while librdkafka's local queue is full.
    /// - Throws: `.produce` when librdkafka refuses the message outright (too large, unknown partition, closed).
    package func produce(_ message: KafkaProducerMessage) async throws {
        try await enqueue(message, opaque: nil)
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

    /// Flushes and stops the producer; later sends fail with `.closed`.
    package func close(timeoutMillis: Int = 10_000) async throws {
        if isClosed.exchange(true, ordering: .acquiringAndReleasing) { return }
        defer { pollThread.stop() }
        try await flush(timeoutMillis: timeoutMillis)
    }

    private func enqueue(_ message: KafkaProducerMessage, opaque: UnsafeMutableRawPointer?) async throws {
        if isClosed.load(ordering: .acquiring) {
            throw KafkaError(code: .closed, message: "the producer is closed; message to '\(message.topic)' not sent")
        }
        let size = message.value.count + (message.key?.count ?? 0)
        if size > maxMessageBytes {
            throw KafkaError(code: .produce, message: "message of \(size) bytes to '\(message.topic)' exceeds message.max.bytes (\(maxMessageBytes)); raise kafka.producer.max_message_bytes (and the broker's limit) or send smaller messages", rdkafkaCode: RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue)
        }
        while true {
            let err = produceOnce(message, opaque: opaque)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                // Backpressure: librdkafka's bounded queue is full; wait for deliveries to drain it.
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            throw KafkaError(code: .produce, err, context: "could not produce to '\(message.topic)'")
        }
    }

    private func produceOnce(_ message: KafkaProducerMessage, opaque: UnsafeMutableRawPointer?) -> rd_kafka_resp_err_t {
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
        let err = message.value.withUnsafeBytes { value in
            withKey(message.key) { keyPointer, keyCount in
                sluice_produce(handle.pointer, message.topic, partition, keyPointer, keyCount,
                               value.baseAddress, value.count, headers, message.timestampMillis ?? 0, opaque)
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
            rd_kafka_headers_destroy(headers)
        }
        return err
    }

    private func withKey<R>(_ key: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
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
    package let count: Int

    /// Waits until every message has settled. Several tasks may wait for the same batch.
    /// - Returns: a delivery report per message, in the order given.
    /// - Throws: the first failure, after all messages have settled.
    package func acknowledged() async throws -> [KafkaDeliveryReport] {
        if count == 0 { return [] }
        let results = await withCheckedContinuation { continuation in
            state.wait(for: tracker, continuation: continuation)
        }
        var reports: [KafkaDeliveryReport] = []
        reports.reserveCapacity(results.count)
        for result in results {
            reports.append(try result.get())
        }
        return reports
    }
}

final class BatchDelivery: @unchecked Sendable {
    var results: [Result<KafkaDeliveryReport, KafkaError>?]
    var remaining: Int
    /// Everyone waiting for the batch (`KafkaDeliveries.acknowledged()` may be awaited more than once).
    var continuations: [CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>] = []

    init(count: Int) {
        self.results = Array(repeating: nil, count: count)
        self.remaining = count
    }
}

/// The producer's mutable state, shared with librdkafka's delivery callback.
final class ProducerState: RdKafkaCallbackHandler {
    private struct State {
        var nextID: UInt = 1
        var pending: [UInt: (BatchDelivery, Int)] = [:]
        var counts = KafkaProducer.DeliveryCounts()
    }

    let logger: Logger
    private let state = Mutex(State())

    init(logger: Logger) {
        self.logger = logger
    }

    var counts: KafkaProducer.DeliveryCounts { state.withLock { $0.counts } }

    /// Resumes `continuation` once every message of `tracker` has settled (at once if they all have); any number
    /// of waiters may wait for the same batch.
    func wait(for tracker: BatchDelivery, continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) {
        let done: [Result<KafkaDeliveryReport, KafkaError>]? = state.withLock { _ in
            if tracker.remaining == 0 { return tracker.results.map { $0! } }
            tracker.continuations.append(continuation)
            return nil
        }
        if let done { continuation.resume(returning: done) }
    }

    /// Allocates the opaque id that links a message to its slot in `tracker`.
    func nextID(tracker: BatchDelivery, index: Int) -> UInt {
        state.withLock { state in
            let id = state.nextID
            state.nextID &+= 1
            if state.nextID == 0 { state.nextID = 1 }
            state.pending[id] = (tracker, index)
            return id
        }
    }

    func complete(id: UInt, with result: Result<KafkaDeliveryReport, KafkaError>) {
        let finished: ([CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>], [Result<KafkaDeliveryReport, KafkaError>])? = state.withLock { state in
            guard let (tracker, index) = state.pending.removeValue(forKey: id) else { return nil }
            tracker.results[index] = result
            tracker.remaining -= 1
            guard tracker.remaining == 0, !tracker.continuations.isEmpty else { return nil }
            defer { tracker.continuations = [] }
            return (tracker.continuations, tracker.results.map { $0! })
        }
        if let (continuations, results) = finished {
            for continuation in continuations { continuation.resume(returning: results) }
        }
    }

    func handleDelivery(_ message: UnsafePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let id = UInt(bitPattern: m._private)
        let result: Result<KafkaDeliveryReport, KafkaError>
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            let topic = CString.string(rd_kafka_topic_name(m.rkt))
            result = .success(KafkaDeliveryReport(topic: topic, partition: m.partition, offset: m.offset))
        } else {
            let topic = CString.string(rd_kafka_topic_name(m.rkt))
            result = .failure(KafkaError(code: .delivery, m.err, context: "message to '\(topic)' was not acknowledged"))
        }
        if id == 0 {
            state.withLock { state in
                if case .success = result { state.counts.delivered += 1 } else { state.counts.failed += 1 }
            }
            if case .failure(let error) = result {
                logger.error("fire-and-forget delivery failed", metadata: ["error": "\(error)"])
            }
            return
        }
        complete(id: id, with: result)
    }

    func handleClientError(_ error: KafkaError) {
        logger.warning("kafka producer error", metadata: ["error": "\(error)"])
    }
}
