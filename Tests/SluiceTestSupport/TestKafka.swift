import Foundation
import Logging
import SluiceKafka
import Testing

/// Where the integration tests find a Kafka cluster: `SLUICE_TEST_KAFKA_BROKERS` (set by `scripts/test`, which
/// starts `sluice dev-cluster`), or else one in-process dev cluster shared by the tests, reached over TCP either way.
package enum TestKafka {
    package static let logger: Logger = {
        var logger = Logger(label: "sluice.tests.kafka")
        logger.logLevel = .critical
        return logger
    }()

    private static let inProcessCluster: DevCluster? = {
        if ProcessInfo.processInfo.environment["SLUICE_TEST_KAFKA_BROKERS"] != nil { return nil }
        return try? DevCluster(brokers: 3, logger: logger)
    }()

    package static var bootstrapServers: String {
        get throws {
            if let servers = ProcessInfo.processInfo.environment["SLUICE_TEST_KAFKA_BROKERS"], !servers.isEmpty { return servers }
            guard let cluster = inProcessCluster else {
                throw KafkaError(code: .devCluster, message: "could not start an in-process dev cluster and SLUICE_TEST_KAFKA_BROKERS is unset")
            }
            return cluster.bootstrapServers
        }
    }

    /// A topic name no other test uses.
    package static func uniqueTopic(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Creates a topic on the dev cluster (the mock cluster has no CreateTopics API): through the control port of
    /// `sluice dev-cluster` (`SLUICE_TEST_KAFKA_CONTROL_PORT`) or directly on the in-process cluster.
    package static func createTopic(_ name: String, partitions: Int) async throws {
        if let port = ProcessInfo.processInfo.environment["SLUICE_TEST_KAFKA_CONTROL_PORT"].flatMap(UInt16.init) {
            try await DevClusterControl(port: port).createTopic(name, partitions: partitions)
        } else if let inProcessCluster {
            try inProcessCluster.createTopic(name, partitions: partitions)
        } else {
            throw KafkaError(code: .devCluster, message: "SLUICE_TEST_KAFKA_BROKERS is set but SLUICE_TEST_KAFKA_CONTROL_PORT is not: cannot create topics")
        }
        let admin = try KafkaAdmin(bootstrapServers: try bootstrapServers, logger: logger)
        try await waitUntil("topic \(name) has \(partitions) partitions") {
            let metadata = try await admin.metadata(topic: name)
            return metadata.topics.first { $0.name == name }?.partitions.count == partitions
        }
    }

    package static func producer(_ configure: (inout KafkaProducerConfiguration) -> Void = { _ in }) throws -> KafkaProducer {
        var configuration = KafkaProducerConfiguration(bootstrapServers: try bootstrapServers)
        configure(&configuration)
        return try KafkaProducer(configuration: configuration, logger: logger)
    }

    package static func consumer(group: String, _ configure: (inout KafkaConsumerConfiguration) -> Void = { _ in }) throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: try bootstrapServers, groupID: group)
        configuration.sessionTimeoutMillis = 6_000
        configure(&configuration)
        return try KafkaConsumer(configuration: configuration, logger: logger)
    }

    package static var kcat: String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/kcat") {
            return "\(directory)/kcat"
        }
        return nil
    }
}

/// Polls `condition` until it holds or `timeout` passes; fails the test with `what` on timeout.
package func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out after \(timeout) waiting until \(what)")
    throw CancellationError()
}

/// Runs `body` with a deadline; throws if it does not finish in time.
package func withDeadline<T: Sendable>(_ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            Issue.record("\(what) did not finish within \(timeout)")
            throw CancellationError()
        }
        group.cancelAll()
        return value
    }
}

/// Consumes from `consumer` until `count` messages arrived, answering rebalances with the broker's offsets.
package func consume(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
    try await withDeadline(timeout, "consuming \(count) messages") {
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
}
