import Foundation
import Synchronization
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Consumer groups and offsets", .timeLimit(.minutes(5)))
struct GroupTests {
    @Test func committedOffsetsSurviveAConsumerRestart() async throws {
        let topic = TestKafka.uniqueTopic("restart")
        try await TestKafka.createTopic(topic, partitions: 2)
        let producer = try TestKafka.producer()
        _ = try await producer.sendBatch((0..<2_000).map { KafkaProducerMessage(topic: topic, partition: Int32($0 % 2), value: Array("\($0)".utf8)) })
        try await producer.close()
        let group = "g-\(topic)"

        // First member: reads everything but commits only the first 300 messages of each partition.
        let first = try TestKafka.consumer(group: group)
        try first.subscribe(topics: [topic])
        let all = try await consume(first, count: 2_000)
        #expect(all.count == 2_000)
        try await first.commit([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: 300),
                                KafkaTopicPartitionOffset(topic: topic, partition: 1, offset: 300)])
        let committed = try await first.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        #expect(committed[KafkaTopicPartition(topic: topic, partition: 0)] == 300)
        await first.close()

        // Restarted member: resumes exactly at the committed offsets.
        let second = try TestKafka.consumer(group: group)
        try second.subscribe(topics: [topic])
        let rest = try await consume(second, count: 1_400)
        await second.close()
        for partition in Int32(0)...1 {
            let offsets = rest.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(300..<1_000), "partition \(partition) resumes at 300 with no gap or duplicate")
        }

        let admin = try KafkaAdmin(bootstrapServers: try TestKafka.bootstrapServers, logger: TestKafka.logger)
        let lag = try await admin.lag(group: group, topics: [topic])
        #expect(lag.map(\.lag) == [700, 700])
        #expect(lag.map(\.highWatermark) == [1_000, 1_000])
    }

    /// A new one-partition topic holding `messages` messages whose values are their offsets as text.
    static func numberedTopic(_ prefix: String, messages: Int) async throws -> String {
        let topic = TestKafka.uniqueTopic(prefix)
        try await TestKafka.createTopic(topic, partitions: 1)
        let producer = try TestKafka.producer()
        _ = try await producer.sendBatch((0..<messages).map { KafkaProducerMessage(topic: topic, value: Array("\($0)".utf8)) })
        try await producer.close()
        return topic
    }

    @Test func assignmentOffsetsFromTheCallerOverrideTheGroup() async throws {
        let topic = try await Self.numberedTopic("own-offsets", messages: 100)
        let consumer = try TestKafka.consumer(group: "g-\(topic)")
        try consumer.subscribe(topics: [topic])
        let received = try await withDeadline(.seconds(60), "consuming from offset 42") {
            var offsets: [Int64] = []
            for await event in consumer.events {
                switch event {
                case .partitionsAssigned(let assignment):
                    assignment.start(at: [KafkaTopicPartition(topic: topic, partition: 0): 42])
                case .messages(let batch): offsets += batch.map(\.offset)
                case .partitionsRevoked(let revocation): revocation.done()
                case .error, .idle: break
                }
                if offsets.count >= 58 { break }
            }
            return offsets
        }
        await consumer.close()
        #expect(received == Array(42..<100))
    }

    /// A stop that lands while the caller is still starting up (the worker reads its output topics' metadata
    /// before it subscribes): the subscription that follows joins nothing and the event stream ends.
    @Test func aSubscribeAfterCloseJoinsNothingAndTheStreamEnds() async throws {
        let topic = try await Self.numberedTopic("closed-first", messages: 10)
        let group = "g-\(topic)"
        let closed = try TestKafka.consumer(group: group)
        await closed.close()
        try closed.subscribe(topics: [topic])
        let events = try await withDeadline(.seconds(30), "the closed consumer's stream to end") {
            var count = 0
            for await _ in closed.events { count += 1 }
            return count
        }
        #expect(events == 0)
        // The group never saw it: a member joining now is given the partition and reads it all.
        let member = try TestKafka.consumer(group: group)
        try member.subscribe(topics: [topic])
        let messages = try await consume(member, count: 10, timeout: .seconds(60))
        await member.close()
        #expect(messages.map(\.offset) == Array(0..<10))
    }

    @Test func twoMembersSplitThePartitionsAndRevocationComesBeforeReassignment() async throws {
        let topic = TestKafka.uniqueTopic("split")
        try await TestKafka.createTopic(topic, partitions: 4)
        let group = "g-\(topic)"
        let recorder = RebalanceRecorder()
        let first = try TestKafka.consumer(group: group)
        try first.subscribe(topics: [topic])
        let firstTask = Task { await recorder.run("a", first) }
        try await waitUntil("member a owns all 4 partitions") { recorder.assignments.withLock { $0["a"]?.count == 4 } }

        let second = try TestKafka.consumer(group: group)
        try second.subscribe(topics: [topic])
        let secondTask = Task { await recorder.run("b", second) }
        try await waitUntil("the partitions are split between a and b") {
            recorder.assignments.withLock { ($0["a"]?.count ?? 0) == 2 && ($0["b"]?.count ?? 0) == 2 }
        }
        let final = recorder.assignments.withLock { $0 }
        #expect(final["a"]!.isDisjoint(with: final["b"]!))
        #expect(final["a"]!.union(final["b"]!).count == 4)
        let events = recorder.log.withLock { $0 }
        let revoked = try #require(events.firstIndex(of: "a:revoked:4"), "member a saw its partitions revoked: \(events)")
        let reassigned = try #require(events.lastIndex(of: "a:assigned:2"), "member a was reassigned 2 partitions: \(events)")
        #expect(revoked < reassigned)

        await second.close()
        await first.close()
        _ = await (firstTask.value, secondTask.value)
    }
}

/// Records what each member of a group saw during rebalances.
final class RebalanceRecorder: Sendable {
    let log = Mutex<[String]>([])
    let assignments = Mutex<[String: Set<KafkaTopicPartition>]>([:])

    func run(_ name: String, _ consumer: KafkaConsumer) async {
        for await event in consumer.events {
            switch event {
            case .partitionsAssigned(let assignment):
                log.withLock { $0.append("\(name):assigned:\(assignment.partitions.count)") }
                assignments.withLock { $0[name] = Set(assignment.partitions) }
                assignment.start()
            case .partitionsRevoked(let revocation):
                log.withLock { $0.append("\(name):revoked:\(revocation.partitions.count)") }
                assignments.withLock { $0[name] = [] }
                revocation.done()
            case .messages, .error, .idle: break
            }
        }
    }
}
