import Foundation
import Synchronization
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Kafka produce and consume over TCP", .timeLimit(.minutes(5)))
struct ProduceConsumeTests {
    @Test func hundredThousandMessagesArriveExactlyOnceAndInOrderPerPartition() async throws {
        let topic = TestKafka.uniqueTopic("exactly-once")
        try await TestKafka.createTopic(topic, partitions: 8)
        let producer = try TestKafka.producer()
        let total = 100_000
        var batch: [KafkaProducerMessage] = []
        var reports: [KafkaDeliveryReport] = []
        for index in 0..<total {
            batch.append(KafkaProducerMessage(
                topic: topic, key: Array("key-\(index % 1_000)".utf8), value: Array("value-\(index)".utf8),
                headers: [KafkaHeader(name: "seq", text: String(index)), KafkaHeader(name: "null", value: nil)]))
            if batch.count == 10_000 {
                reports += try await producer.sendBatch(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        #expect(reports.count == total)
        #expect(Set(reports.map { "\($0.partition)/\($0.offset)" }).count == total, "every message got its own offset")

        let consumer = try TestKafka.consumer(group: "g-\(topic)")
        try consumer.subscribe(topics: [topic])
        let messages = try await consume(consumer, count: total)
        await consumer.close()

        #expect(messages.count == total)
        var seen = [Bool](repeating: false, count: total)
        var lastSeqPerKey: [String: Int] = [:]
        var lastOffsetPerPartition: [Int32: Int64] = [:]
        for message in messages {
            let headers = message.headers
            let seqBytes = try #require(headers.first { $0.name == "seq" }?.value)
            let seq = try #require(Int(String(decoding: seqBytes, as: UTF8.self)))
            #expect(headers.count == 2 && headers[1].name == "null" && headers[1].value == nil)
            #expect(!seen[seq], "message \(seq) arrived twice")
            seen[seq] = true
            #expect(String(decoding: message.value, as: UTF8.self) == "value-\(seq)")
            let key = String(decoding: try #require(message.key), as: UTF8.self)
            #expect(key == "key-\(seq % 1_000)")
            if let last = lastSeqPerKey[key] { #expect(last < seq, "key \(key) out of order") }
            lastSeqPerKey[key] = seq
            if let last = lastOffsetPerPartition[message.partition] { #expect(last < message.offset) }
            lastOffsetPerPartition[message.partition] = message.offset
        }
        #expect(seen.allSatisfy { $0 }, "every message arrived")
        try await producer.close()
    }

    /// `prepare(topics:)` reads an existing topic's metadata up front and reports a topic it could not read; messages
    /// to prepared topics are delivered as usual, and the producer (holding topic handles) closes and goes away cleanly.
    @Test func preparedTopicsAreReadUpFrontAndStillDelivered() async throws {
        let topic = TestKafka.uniqueTopic("prepared")
        try await TestKafka.createTopic(topic, partitions: 4)
        var producer: KafkaProducer? = try TestKafka.producer()
        let failed = await producer!.prepare(topics: [topic, topic], timeoutMillis: 2_000)
        #expect(failed.isEmpty, "\(failed)")
        // No broker answers on port 1 (the dev cluster creates any topic asked for, so it cannot refuse one).
        let unreachable = try TestKafka.producer { $0.bootstrapServers = "127.0.0.1:1" }
        let unanswered = await unreachable.prepare(topics: [topic], timeoutMillis: 300)
        #expect(unanswered[topic] != nil, "a topic whose metadata could not be read is reported")
        #expect(await producer!.prepare(topics: [topic]).isEmpty, "a prepared topic is not read again")
        let reports = try await producer!.sendBatch((0..<100).map { KafkaProducerMessage(topic: topic, key: Array("k\($0)".utf8), value: [UInt8($0)]) })
        #expect(Set(reports.map(\.partition)).count > 1, "the messages spread over the topic's partitions")
        try await producer!.close()
        producer = nil

        let consumer = try TestKafka.consumer(group: "g-\(topic)")
        try consumer.subscribe(topics: [topic])
        let messages = try await consume(consumer, count: 100)
        await consumer.close()
        #expect(Set(messages.map { $0.value.first! }) == Set((0..<100).map(UInt8.init)))
    }

    /// A poll hands over what has been fetched at once: it does not hold a few messages back until its batch is
    /// full or its timeout has passed (librdkafka's batch call alone would, adding up to the poll timeout to latency).
    /// The worker encodes a micro-batch's predictions into one buffer and gives each message slices of it; the
    /// producer names topics by handle. Slices at any offset (empty and null ones included) arrive as sliced, and a
    /// batch alternating between two topics lands each message in its own topic.
    @Test func keysAndValuesSlicedFromOneBufferArriveAsSlicedAcrossTopics() async throws {
        let topics = [TestKafka.uniqueTopic("sliced-a"), TestKafka.uniqueTopic("sliced-b")]
        for topic in topics { try await TestKafka.createTopic(topic, partitions: 2) }
        let count = 300
        var buffer: [UInt8] = Array("prefix".utf8)
        var spans: [(key: Range<Int>?, value: Range<Int>)] = []
        for index in 0..<count {
            var key: Range<Int>? = nil
            if index % 7 != 0 {
                let start = buffer.count
                buffer += Array("k\(index)".utf8)
                key = start..<buffer.count
            }
            let start = buffer.count
            if index % 11 != 0 { buffer += Array("value \(index) ".utf8) + [UInt8](repeating: UInt8(index % 251), count: index % 50) }
            spans.append((key, start..<buffer.count))
        }
        let messages = spans.enumerated().map { index, span in
            KafkaProducerMessage(topic: topics[index % 3 == 1 ? 1 : 0], keyBytes: span.key.map { buffer[$0] }, valueBytes: buffer[span.value],
                                 headers: [KafkaHeader(name: "index", text: String(index))])
        }
        let producer = try TestKafka.producer()
        let reports = try await producer.sendBatch(messages)
        #expect(zip(reports, messages).allSatisfy { $0.topic == $1.topic }, "each message landed in its own topic")
        try await producer.close()

        let consumer = try TestKafka.consumer(group: "g-\(topics[0])")
        try consumer.subscribe(topics: topics)
        let received = try await consume(consumer, count: count)
        await consumer.close()
        #expect(received.count == count)
        for message in received {
            let index = try #require(message.headers.first { $0.name == "index" }?.value.flatMap { Int(String(decoding: $0, as: UTF8.self)) })
            #expect(message.topic == topics[index % 3 == 1 ? 1 : 0], "message \(index)'s topic")
            #expect(message.key.map { Array($0) } == spans[index].key.map { Array(buffer[$0]) }, "message \(index)'s key")
            #expect(Array(message.value) == Array(buffer[spans[index].value]), "message \(index)'s value")
        }
    }

    /// A topic name librdkafka refuses to open fails its message with `.produce` and the name's length, and the
    /// rest of the batch is still delivered.
    @Test func aTopicNameLibrdkafkaRefusesFailsOnlyItsMessage() async throws {
        let topic = TestKafka.uniqueTopic("named")
        try await TestKafka.createTopic(topic, partitions: 1)
        let producer = try TestKafka.producer()
        let refused = String(repeating: "t", count: 600)
        let deliveries = await producer.enqueueBatch([
            KafkaProducerMessage(topic: topic, value: [1]), KafkaProducerMessage(topic: refused, value: [2]),
            KafkaProducerMessage(topic: topic, value: [3]),
        ])
        do {
            _ = try await deliveries.acknowledged()
            Issue.record("the message to a 600-byte topic name was accepted")
        } catch let error as KafkaError {
            #expect(error.code == .produce)
            #expect(error.message.contains("600 bytes"), "\(error.message)")
        }
        try await producer.close()
        let consumer = try TestKafka.consumer(group: "g-\(topic)")
        try consumer.subscribe(topics: [topic])
        let messages = try await consume(consumer, count: 2)
        await consumer.close()
        #expect(messages.map { Array($0.value) } == [[1], [3]])
    }

    @Test func aPollHandsOverFetchedMessagesWithoutWaitingForAFullBatch() async throws {
        let topic = TestKafka.uniqueTopic("poll-latency")
        try await TestKafka.createTopic(topic, partitions: 1)
        let consumer = try TestKafka.consumer(group: "g-\(topic)") {
            $0.pollBatchSize = 1_000
            $0.pollTimeoutMillis = 8_000
            $0.properties["fetch.wait.max.ms"] = "10"
        }
        try consumer.subscribe(topics: [topic])
        let received = Atomic<Int>(0)
        let idlesSinceAssignment = Atomic<Int>(0)
        let assigned = Atomic<Bool>(false)
        let reader = Task {
            for await event in consumer.events {
                switch event {
                case .messages(let batch): received.add(batch.count, ordering: .relaxed)
                case .partitionsAssigned(let assignment):
                    assignment.start()
                    assigned.store(true, ordering: .releasing)
                case .partitionsRevoked(let revocation): revocation.done()
                case .idle: if assigned.load(ordering: .acquiring) { idlesSinceAssignment.add(1, ordering: .relaxed) }
                case .error: break
                }
            }
        }
        let producer = try TestKafka.producer()
        // One message first, so the producer has its connection and the topic's metadata before the timed send (on a
        // machine busy with other tests, getting them took seconds of the measured time).
        _ = try await producer.sendBatch([KafkaProducerMessage(topic: topic, value: [255])])
        try await waitUntil("the first message arrives") { received.load(ordering: .relaxed) == 1 }
        idlesSinceAssignment.store(0, ordering: .relaxed)
        // An idle event means a poll has just timed out, so the next one starts with its whole 8 s ahead of it. The
        // old poll handed the messages over only at that deadline; the margin is for a machine busy with other tests.
        try await waitUntil("a poll timed out after the first message") { idlesSinceAssignment.load(ordering: .relaxed) > 0 }
        let sent = ContinuousClock.now
        _ = try await producer.sendBatch((0..<5).map { KafkaProducerMessage(topic: topic, value: [UInt8($0)]) })
        try await waitUntil("the 5 messages arrive") { received.load(ordering: .relaxed) == 6 }
        let waited = ContinuousClock.now - sent
        #expect(waited < .seconds(4), "5 messages took \(waited) to arrive with an 8 s poll timeout and a 1,000-message batch")
        try await producer.close()
        await consumer.close()
        await reader.value
    }

    @Test func sendReturnsTheAcknowledgedPartitionAndOffset() async throws {
        let topic = TestKafka.uniqueTopic("ack")
        try await TestKafka.createTopic(topic, partitions: 2)
        let producer = try TestKafka.producer()
        let first = try await producer.send(KafkaProducerMessage(topic: topic, partition: 1, value: Array("a".utf8), timestampMillis: 1_700_000_000_123))
        let second = try await producer.send(KafkaProducerMessage(topic: topic, partition: 1, value: Array("b".utf8)))
        #expect(first.topic == topic && first.partition == 1)
        #expect(second.offset == first.offset + 1)

        let consumer = try TestKafka.consumer(group: "g-\(topic)")
        try consumer.subscribe(topics: [topic])
        let messages = try await consume(consumer, count: 2)
        await consumer.close()
        let stamped = try #require(messages.first { $0.offset == first.offset })
        #expect(stamped.timestampMillis == 1_700_000_000_123)
        #expect(stamped.key == nil)
        try await producer.close()
    }

    /// The worker waits for a batch's acknowledgements twice: for the latency metric and before its transaction.
    @Test func severalTasksCanWaitForTheSameBatch() async throws {
        let topic = TestKafka.uniqueTopic("acknowledged-twice")
        try await TestKafka.createTopic(topic, partitions: 2)
        let producer = try TestKafka.producer()
        let deliveries = await producer.enqueueBatch((0..<500).map { KafkaProducerMessage(topic: topic, value: Array("m\($0)".utf8)) })
        async let first = deliveries.acknowledged()
        async let second = deliveries.acknowledged()
        async let third: Void = deliveries.settled()
        let (a, b, _) = try await (first, second, third)
        #expect(a.count == 500 && b.count == 500)
        #expect(a.map(\.offset) == b.map(\.offset))
        // Every message has its own place: per partition, the offsets are distinct and increase in send order.
        #expect(a.allSatisfy { $0.topic == topic && ($0.partition == 0 || $0.partition == 1) && $0.offset >= 0 })
        for partition in [Int32(0), 1] {
            let offsets = a.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count)
        }
        // Once settled, a late waiter gets the same reports at once.
        #expect(try await deliveries.acknowledged().map(\.offset) == a.map(\.offset))
        try await producer.close()
    }

    @Test func fireAndForgetCountsDeliveries() async throws {
        let topic = TestKafka.uniqueTopic("fire-and-forget")
        try await TestKafka.createTopic(topic, partitions: 4)
        let producer = try TestKafka.producer()
        for index in 0..<5_000 {
            try await producer.produce(KafkaProducerMessage(topic: topic, value: Array("m\(index)".utf8)))
        }
        try await producer.flush(timeoutMillis: 30_000)
        #expect(producer.deliveryCounts == .init(delivered: 5_000, failed: 0))
        #expect(producer.inFlightCount == 0)
        let admin = try KafkaAdmin(bootstrapServers: try TestKafka.bootstrapServers, logger: TestKafka.logger)
        var total: Int64 = 0
        for partition in 0..<4 {
            total += try await admin.watermarks(KafkaTopicPartition(topic: topic, partition: Int32(partition))).high
        }
        #expect(total == 5_000)
        try await producer.close()
    }
}
