import Foundation
import SluiceKafka
import SluiceTestSupport
import Testing

/// Fault injection needs control of the cluster, so these tests start their own dev cluster (still reached over TCP).
@Suite("Kafka faults", .serialized, .timeLimit(.minutes(5)))
struct FaultTests {
    @Test func brokerDownAndUpMidProduceLosesNothingAndDuplicatesNothing() async throws {
        let cluster = try DevCluster(brokers: 1, logger: TestKafka.logger)
        let topic = "faults"
        try cluster.createTopic(topic, partitions: 2)
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.messageTimeoutMillis = 120_000
        let producer = try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        let total = 20_000
        let messages = (0..<total).map { KafkaProducerMessage(topic: topic, partition: Int32($0 % 2), value: Array("\($0)".utf8)) }

        // The first half goes out while the broker is up, and the broker goes down once some of it is acknowledged
        // (what is still in flight then is retried). The second half is queued while it is down, so the producer
        // certainly holds messages it cannot deliver, whatever the host's speed.
        let first = await producer.enqueueBatch(Array(messages[..<(total / 2)]))
        try await waitUntil("some of the first half is acknowledged") { producer.inFlightCount < total / 2 }
        try cluster.setBrokerDown(1)
        try cluster.pushRequestErrors(.produce, errorName: "NOT_LEADER_FOR_PARTITION", count: 3)
        let second = await producer.enqueueBatch(Array(messages[(total / 2)...]))
        try await waitUntil("the producer holds the second half it cannot deliver") { producer.inFlightCount >= total / 2 }
        try cluster.setBrokerUp(1)
        let reports = try await first.acknowledged() + second.acknowledged()
        #expect(reports.count == total)
        #expect(reports.allSatisfy { $0.offset >= 0 })

        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "faults"), logger: TestKafka.logger)
        try consumer.subscribe(topics: [topic])
        let consumed = try await consume(consumer, count: total, timeout: .seconds(120))
        await consumer.close()
        let values = consumed.map { Int(String(decoding: $0.value, as: UTF8.self))! }
        #expect(values.count == total)
        #expect(Set(values).count == total, "no duplicates")
        for partition in Int32(0)...1 {
            let inPartition = consumed.filter { $0.partition == partition }.map { Int(String(decoding: $0.value, as: UTF8.self))! }
            #expect(inPartition == inPartition.sorted(), "partition \(partition) keeps production order")
        }
        try await producer.close()
    }

    @Test func injectedFetchAndCommitErrorsAreRetried() async throws {
        let cluster = try DevCluster(brokers: 1, logger: TestKafka.logger)
        try cluster.createTopic("retry", partitions: 1)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers), logger: TestKafka.logger)
        _ = try await producer.sendBatch((0..<1_000).map { KafkaProducerMessage(topic: "retry", value: Array("\($0)".utf8)) })
        try cluster.pushRequestErrors(.fetch, errorName: "NOT_LEADER_FOR_PARTITION", count: 2)
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "retry"), logger: TestKafka.logger)
        try consumer.subscribe(topics: ["retry"])
        let messages = try await consume(consumer, count: 1_000)
        #expect(messages.map(\.offset) == Array(0..<1_000))
        try cluster.pushRequestErrors(.offsetCommit, errorName: "REQUEST_TIMED_OUT", count: 1)
        var committed = false
        for _ in 0..<5 where !committed {
            do {
                try await consumer.commit([KafkaTopicPartitionOffset(topic: "retry", partition: 0, offset: 1_000)])
                committed = true
            } catch let error as KafkaError {
                #expect(error.code == .consumer)
            }
        }
        #expect(committed)
        let stored = try await consumer.committed([KafkaTopicPartition(topic: "retry", partition: 0)])
        #expect(stored[KafkaTopicPartition(topic: "retry", partition: 0)] == 1_000)
        await consumer.close()
        try await producer.close()
    }
}

@Suite("Kafka bad input", .timeLimit(.minutes(2)))
struct KafkaBadInputTests {
    @Test func unknownPropertyNamesTheProperty() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9")
        configuration.properties["no.such.property"] = "1"
        let error = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: configuration, logger: TestKafka.logger) }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("unknown librdkafka property 'no.such.property'") == true)
    }

    @Test func invalidValueNamesThePropertyAndHidesSecrets() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9", groupID: "g")
        configuration.properties["sasl.password"] = "hunter2"
        configuration.properties["security.protocol"] = "carrier-pigeon"
        let error = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: configuration, logger: TestKafka.logger) }
        #expect(error?.message.contains("security.protocol") == true)
        #expect(error?.description.contains("hunter2") == false)
    }

    @Test func oversizedMessageIsRefusedWithTheLimit() async throws {
        let producer = try TestKafka.producer { $0.maxMessageBytes = 10_000 }
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaProducerMessage(topic: TestKafka.uniqueTopic("big"), value: [UInt8](repeating: 65, count: 20_000)))
        }
        #expect(error?.code == .produce)
        #expect(error?.message.contains("exceeds message.max.bytes (10000)") == true)
    }

    @Test func unreachableBrokersFailWithinTheDeadline() async throws {
        // Port 9 (discard) on loopback: nothing listens there.
        let admin = try KafkaAdmin(bootstrapServers: "127.0.0.1:9", logger: TestKafka.logger)
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) { try await admin.metadata(timeoutMillis: 1_500) }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.message.contains("127.0.0.1:9") == true)

        var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9")
        configuration.messageTimeoutMillis = 1_000
        let producer = try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        let delivery = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaProducerMessage(topic: "nowhere", value: Array("x".utf8)))
        }
        #expect(delivery?.code == .delivery)
    }
}
