import CRdKafka
import Logging

/// Kafka protocol request types, for fault injection on the dev cluster.
package enum KafkaAPIKey: Int16, Sendable, CaseIterable {
    case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
    case findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
    case initProducerID = 22
}

/// A Kafka cluster for local runs and tests: librdkafka's mock cluster (`rdkafka_mock.h`), listening on random
/// ports on 127.0.0.1 and reachable over TCP by any Kafka client (kcat, other processes).
///
/// Limits of librdkafka 2.0's mock cluster (measured): topics that are not created explicitly are auto-created
/// with 4 partitions; each partition keeps only about 5 MiB or 100,000 message sets (older ones are dropped);
/// read_committed isolation is not honoured; the CreateTopics admin API is not supported (use `createTopic`).
package final class DevCluster: Sendable {
    package let bootstrapServers: String
    package let brokerCount: Int
    private let handle: RdKafkaHandle
    private let cluster: MockClusterPointer
    private let logger: Logger

    /// Starts a cluster of `brokers` brokers (ids 1…brokers).
    package init(brokers: Int = 1, logger: Logger) throws(KafkaError) {
        guard brokers >= 1 else {
            throw KafkaError(code: .devCluster, message: "a dev cluster needs at least 1 broker, got \(brokers)")
        }
        self.logger = logger
        self.brokerCount = brokers
        // The mock brokers' sockets take their options from this handle. A Kafka broker sets TCP_NODELAY on every
        // connection; without it each small response waits for the client's delayed ACK (measured ~45 ms per
        // produce acknowledgement on loopback), which no real cluster shows.
        self.handle = try RdKafkaHandle(type: RD_KAFKA_PRODUCER, properties: [("client.id", "sluice-dev-cluster"), ("socket.nagle.disable", "true")],
                                        handler: DevClusterCallbacks(logger: logger))
        guard let mock = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            throw KafkaError(code: .devCluster, message: "librdkafka could not start a mock cluster of \(brokers) brokers")
        }
        self.cluster = MockClusterPointer(mock)
        self.bootstrapServers = CString.string(rd_kafka_mock_cluster_bootstraps(mock))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster.pointer)
    }

    /// Creates a topic with `partitions` partitions and `replicationFactor` replicas (≤ broker count).
    /// An existing topic is left as it is.
    package func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        guard partitions >= 1, replicationFactor >= 1, replicationFactor <= brokerCount else {
            throw KafkaError(code: .devCluster, message: "topic '\(name)': need partitions ≥ 1 and 1 ≤ replication factor ≤ \(brokerCount) brokers, got \(partitions) partitions and replication factor \(replicationFactor)")
        }
        let err = rd_kafka_mock_topic_create(cluster.pointer, name, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
            throw KafkaError(code: .devCluster, err, context: "could not create topic '\(name)'")
        }
    }

    /// Disconnects a broker (or all with -1) and refuses new connections. Leadership does not move.
    package func setBrokerDown(_ brokerID: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_down(cluster.pointer, brokerID), "could not take broker \(brokerID) down")
    }

    /// Lets a broker (or all with -1) accept connections again.
    package func setBrokerUp(_ brokerID: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_up(cluster.pointer, brokerID), "could not bring broker \(brokerID) up")
    }

    /// Moves the leadership of a partition to `brokerID` (-1 makes it leaderless).
    package func setPartitionLeader(topic: String, partition: Int32, brokerID: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, brokerID),
                  "could not set the leader of \(topic)/\(partition)")
    }

    /// Adds a round-trip delay to a broker's responses (or all with -1).
    package func setRoundTripTime(brokerID: Int32, millis: Int) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_rtt(cluster.pointer, brokerID, Int32(millis)), "could not set the round-trip time")
    }

    /// Makes the next `count` requests of type `api` fail with the Kafka error named `errorName`
    /// (librdkafka's name without the leading `RD_KAFKA_RESP_ERR_`, e.g. `NOT_LEADER_FOR_PARTITION`, `_TRANSPORT`).
    package func pushRequestErrors(_ api: KafkaAPIKey, errorName: String, count: Int = 1) throws(KafkaError) {
        guard let code = Self.errorCode(named: errorName) else {
            throw KafkaError(code: .devCluster, message: "unknown Kafka error name '\(errorName)'; expected a librdkafka error name such as REQUEST_TIMED_OUT or _TRANSPORT")
        }
        sluice_mock_push_request_errors(cluster.pointer, api.rawValue, count, code)
    }

    /// Forgets injected errors for `api`.
    package func clearRequestErrors(_ api: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster.pointer, api.rawValue)
    }

    /// librdkafka's code for an error name such as `NOT_LEADER_FOR_PARTITION`.
    package static func errorCode(named name: String) -> rd_kafka_resp_err_t? {
        var descriptions: UnsafePointer<rd_kafka_err_desc>? = nil
        var count = 0
        rd_kafka_get_err_descs(&descriptions, &count)
        guard let descriptions else { return nil }
        for index in 0..<count {
            let description = descriptions[index]
            if let cName = description.name, String(cString: cName) == name { return description.code }
        }
        return nil
    }

    private func check(_ err: rd_kafka_resp_err_t, _ context: String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: .devCluster, err, context: context) }
    }
}

/// The mock cluster pointer.
///
/// `@unchecked Sendable`: librdkafka's mock cluster API is thread-safe (each call posts an operation to the
/// cluster's own thread), and the pointer is destroyed once, in `DevCluster.deinit`.
private struct MockClusterPointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

private final class DevClusterCallbacks: RdKafkaCallbackHandler {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
    func handleClientError(_ error: KafkaError) {
        logger.debug("dev cluster client error", metadata: ["error": "\(error)"])
    }
}
