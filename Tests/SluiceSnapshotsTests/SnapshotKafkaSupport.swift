import Foundation
import Logging
import SluiceKafka
import Testing

/// The Kafka cluster of the snapshot tests: `SLUICE_TEST_KAFKA_BROKERS` (topics created through the dev cluster's
/// control port, `SLUICE_TEST_KAFKA_CONTROL_PORT`), or else an in-process dev cluster; reached over TCP either way.
/// (The same arrangement as the SluiceKafka tests' `TestKafka`.)
enum SnapshotKafka {
    static let logger: Logger = {
        var logger = Logger(label: "sluice.snapshots.tests.kafka")
        logger.logLevel = .critical
        return logger
    }()

    private static let inProcessCluster: DevCluster? = {
        if ProcessInfo.processInfo.environment["SLUICE_TEST_KAFKA_BROKERS"] != nil { return nil }
        return try? DevCluster(brokers: 1, logger: logger)
    }()

    static var bootstrapServers: String {
        get throws {
            if let servers = ProcessInfo.processInfo.environment["SLUICE_TEST_KAFKA_BROKERS"], !servers.isEmpty { return servers }
            guard let cluster = inProcessCluster else {
                throw KafkaError(code: .devCluster, message: "could not start an in-process dev cluster and SLUICE_TEST_KAFKA_BROKERS is unset")
            }
            return cluster.bootstrapServers
        }
    }

    static func uniqueTopic(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func createTopic(_ name: String, partitions: Int) async throws {
        if let port = ProcessInfo.processInfo.environment["SLUICE_TEST_KAFKA_CONTROL_PORT"].flatMap(UInt16.init) {
            try await DevClusterControl(port: port).createTopic(name, partitions: partitions)
        } else if let inProcessCluster {
            try inProcessCluster.createTopic(name, partitions: partitions)
        } else {
            throw KafkaError(code: .devCluster, message: "SLUICE_TEST_KAFKA_BROKERS is set but SLUICE_TEST_KAFKA_CONTROL_PORT is not: cannot create topics")
        }
        let admin = try KafkaAdmin(bootstrapServers: try bootstrapServers, logger: logger)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let metadata = try await admin.metadata(topic: name)
            if metadata.topics.first(where: { $0.name == name })?.partitions.count == partitions { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("topic \(name) did not get \(partitions) partitions within 30 s")
        throw CancellationError()
    }

    static func producer() throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: try bootstrapServers), logger: logger)
    }

    static func consumer(group: String) throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: try bootstrapServers, groupID: group)
        configuration.sessionTimeoutMillis = 6_000
        return try KafkaConsumer(configuration: configuration, logger: logger)
    }

    /// Consumes until `count` messages arrived or `timeout` passed.
    static func consume(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        try await withThrowingTaskGroup(of: [KafkaMessage]?.self) { group in
            group.addTask {
                var messages: [KafkaMessage] = []
                for await event in consumer.events {
                    switch event {
                    case .messages(let batch): messages.append(contentsOf: batch)
                    case .partitionsAssigned(let assignment): assignment.start()
                    case .partitionsRevoked(let revocation): revocation.done()
                    case .error, .idle: break
                    }
                    if messages.count >= count { break }
                }
                return messages
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let messages = first else {
                Issue.record("fewer than \(count) messages within \(timeout)")
                throw CancellationError()
            }
            return messages
        }
    }
}
