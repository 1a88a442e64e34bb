import Foundation
import Synchronization
import SluiceKafka
import SluiceTestSupport
import Testing

@Suite("Pause and resume", .timeLimit(.minutes(3)))
struct PauseResumeTests {
    /// A paused member keeps its partitions and fetches nothing, while a member of another group proves the
    /// messages are there; after resume it receives them, without a rebalance.
    @Test func pausedPartitionsFetchNothingUntilResumedAndKeepTheAssignment() async throws {
        let topic = TestKafka.uniqueTopic("pause")
        try await TestKafka.createTopic(topic, partitions: 2)
        let partitions = [KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1)]
        let paused = try TestKafka.consumer(group: "g-\(topic)")
        try paused.subscribe(topics: [topic])
        let received = Atomic<Int>(0)
        let rebalances = Atomic<Int>(0)
        let assigned = Atomic<Bool>(false)
        let reader = Task {
            for await event in paused.events {
                switch event {
                case .messages(let batch): received.add(batch.count, ordering: .relaxed)
                case .partitionsAssigned(let assignment):
                    rebalances.add(1, ordering: .relaxed)
                    assignment.start()
                    assigned.store(true, ordering: .releasing)
                case .partitionsRevoked(let revocation): revocation.done()
                case .error, .idle: break
                }
            }
        }
        try await waitUntil("the member owns both partitions") {
            assigned.load(ordering: .acquiring) && (try? paused.assignment()) == partitions
        }
        try paused.pause(partitions)

        let producer = try TestKafka.producer()
        _ = try await producer.sendBatch((0..<200).map { KafkaProducerMessage(topic: topic, partition: Int32($0 % 2), value: Array("\($0)".utf8)) })
        try await producer.close()

        // Another group reads all 200: they are fetchable, yet the paused member got none.
        let witness = try TestKafka.consumer(group: "witness-\(topic)")
        try witness.subscribe(topics: [topic])
        #expect(try await consume(witness, count: 200).count == 200)
        await witness.close()
        #expect(received.load(ordering: .relaxed) == 0)

        try paused.resume(partitions)
        try await waitUntil("the resumed member receives the 200 messages") { received.load(ordering: .relaxed) == 200 }
        #expect(rebalances.load(ordering: .relaxed) == 1, "pausing did not leave the group")
        #expect(try paused.assignment() == partitions)
        await paused.close()
        await reader.value
    }
}
