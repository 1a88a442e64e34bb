import CRdKafka
import Logging

/// Cluster administration: create topics, read metadata, watermarks, committed offsets and lag.
/// Every call blocks in librdkafka, so each runs on a serial queue this client owns.
package final class KafkaAdmin: Sendable {
    private let handle: RdKafkaHandle
    private let blocking = BlockingExecutor(label: "sluice.kafka.admin.blocking")
    private let bootstrapServers: String
    private let properties: [String: String]
    private let logger: Logger

    /// Creates an admin client; `properties` are extra librdkafka properties (SASL, SSL, …).
    package init(bootstrapServers: String, properties: [String: String] = [:], logger: Logger) throws(KafkaError) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
        self.logger = logger
        var all: [(String, String)] = [("bootstrap.servers", bootstrapServers), ("client.id", "sluice-admin")]
        all += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        self.handle = try RdKafkaHandle(type: RD_KAFKA_PRODUCER, properties: all, handler: AdminCallbacks(logger: logger))
    }

    /// Creates topics. With `ifNotExists`, a topic that already exists is not an error.
    package func createTopics(_ topics: [KafkaNewTopic], ifNotExists: Bool = true, timeoutMillis: Int = 30_000) async throws {
        if topics.isEmpty { return }
        let handle = self.handle
        let servers = bootstrapServers
        try await blocking.run {
            var newTopics: [OpaquePointer?] = []
            defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
            for topic in topics {
                let (created, text) = CString.withErrorBuffer {
                    rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), $0, $1)
                }
                guard let created else {
                    throw KafkaError(code: .admin, message: "invalid topic '\(topic.name)': \(text)")
                }
                for (key, value) in topic.config.sorted(by: { $0.key < $1.key }) {
                    rd_kafka_NewTopic_set_config(created, key, value)
                }
                newTopics.append(created)
            }
            let queue = rd_kafka_queue_new(handle.pointer)
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = CString.withErrorBuffer { rd_kafka_AdminOptions_set_request_timeout(options, Int32(clamping: timeoutMillis), $0, $1) }
            _ = CString.withErrorBuffer { rd_kafka_AdminOptions_set_operation_timeout(options, Int32(clamping: timeoutMillis), $0, $1) }
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(handle.pointer, buffer.baseAddress, buffer.count, options, queue)
            }
            guard let event = rd_kafka_queue_poll(queue, Int32(clamping: timeoutMillis + 1_000)) else {
                throw KafkaError(code: .timeout, message: "no answer to CreateTopics from \(servers) within \(timeoutMillis) ms: is the cluster reachable?")
            }
            defer { rd_kafka_event_destroy(event) }
            let eventError = rd_kafka_event_error(event)
            if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: .admin, message: "CreateTopics failed: \(CString.string(rd_kafka_event_error_string(event)))", rdkafkaCode: eventError.rawValue)
            }
            guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
            var count = 0
            guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
            for index in 0..<count {
                let err = rd_kafka_topic_result_error(results[index])
                if err == RD_KAFKA_RESP_ERR_NO_ERROR || (ifNotExists && err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) { continue }
                let name = CString.string(rd_kafka_topic_result_name(results[index]))
                let text = CString.string(rd_kafka_topic_result_error_string(results[index]))
                throw KafkaError(code: .admin, message: "could not create topic '\(name)': \(text)", rdkafkaCode: err.rawValue)
            }
        }
    }

    /// Brokers and topics of the cluster; only `topic` when given.
    package func metadata(topic: String? = nil, timeoutMillis: Int = 10_000) async throws -> KafkaClusterMetadata {
        let handle = self.handle
        let servers = bootstrapServers
        return try await blocking.run {
            var topicHandle: OpaquePointer? = nil
            if let topic { topicHandle = rd_kafka_topic_new(handle.pointer, topic, nil) }
            defer { if let topicHandle { rd_kafka_topic_destroy(topicHandle) } }
            var raw: UnsafePointer<rd_kafka_metadata>? = nil
            let err = rd_kafka_metadata(handle.pointer, topic == nil ? 1 : 0, topicHandle, &raw, Int32(clamping: timeoutMillis))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let raw else {
                throw KafkaError(code: err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ? .timeout : .admin,
                                 err, context: "could not read metadata from \(servers) within \(timeoutMillis) ms (check bootstrap servers and that the brokers are up)")
            }
            defer { rd_kafka_metadata_destroy(raw) }
            return Self.convert(raw.pointee)
        }
    }

    private static func errorName(_ err: rd_kafka_resp_err_t) -> String? {
        err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : String(cString: rd_kafka_err2name(err))
    }

    private static func convert(_ raw: rd_kafka_metadata) -> KafkaClusterMetadata {
        let brokers = (0..<Int(raw.broker_cnt)).map { index in
            let broker = raw.brokers[index]
            return KafkaClusterMetadata.Broker(id: broker.id, host: CString.string(broker.host), port: broker.port)
        }
        let topics = (0..<Int(raw.topic_cnt)).map { index in
            let topic = raw.topics[index]
            let partitions = (0..<Int(topic.partition_cnt)).map { p in
                let partition = topic.partitions[p]
                return KafkaClusterMetadata.Partition(
                    id: partition.id, leader: partition.leader,
                    replicas: Array(UnsafeBufferPointer(start: partition.replicas, count: Int(partition.replica_cnt))),
                    inSyncReplicas: Array(UnsafeBufferPointer(start: partition.isrs, count: Int(partition.isr_cnt))),
                    error: errorName(partition.err))
            }.sorted { $0.id < $1.id }
            return KafkaClusterMetadata.Topic(name: CString.string(topic.topic), partitions: partitions, error: errorName(topic.err))
        }.sorted { $0.name < $1.name }
        return KafkaClusterMetadata(brokers: brokers.sorted { $0.id < $1.id }, topics: topics)
    }

    /// Low and high watermarks of a partition.
    package func watermarks(_ partition: KafkaTopicPartition, timeoutMillis: Int = 10_000) async throws -> (low: Int64, high: Int64) {
        let handle = self.handle
        return try await blocking.run { try Watermarks.query(handle.pointer, partition, timeoutMillis: timeoutMillis) }
    }

    /// The committed offsets of `group` for every partition of `topics`, with each partition's lag.
    package func lag(group: String, topics: [String], timeoutMillis: Int = 10_000) async throws -> [KafkaPartitionLag] {
        var partitions: [KafkaTopicPartition] = []
        for topic in topics {
            let metadata = try await metadata(topic: topic, timeoutMillis: timeoutMillis)
            for partition in metadata.topics.first(where: { $0.name == topic })?.partitions ?? [] {
                partitions.append(KafkaTopicPartition(topic: topic, partition: partition.id))
            }
        }
        let committed = try await committedOffsets(group: group, partitions: partitions, timeoutMillis: timeoutMillis)
        var result: [KafkaPartitionLag] = []
        for partition in partitions {
            let (low, high) = try await watermarks(partition, timeoutMillis: timeoutMillis)
            let offset = committed[partition] ?? nil
            result.append(KafkaPartitionLag(topicPartition: partition, committed: offset, highWatermark: high,
                                            lag: max(0, high - (offset ?? low))))
        }
        return result
    }

    /// The committed offsets of `group` for `partitions` (nil where nothing is committed). Uses a short-lived
    /// client with the group's id that never joins the group, so it does not disturb the members.
    package func committedOffsets(group: String, partitions: [KafkaTopicPartition], timeoutMillis: Int = 10_000) async throws -> [KafkaTopicPartition: Int64?] {
        var all: [(String, String)] = [("bootstrap.servers", bootstrapServers), ("group.id", group),
                                       ("enable.auto.commit", "false"), ("client.id", "sluice-admin-offsets")]
        all += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let probe = try RdKafkaHandle(type: RD_KAFKA_CONSUMER, properties: all, handler: AdminCallbacks(logger: logger))
        return try await blocking.run {
            let list = TopicPartitionList.make(partitions.map { ($0, nil) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(probe.pointer, list, Int32(clamping: timeoutMillis))
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(code: .admin, err, context: "could not read committed offsets of group '\(group)'")
            }
            var result: [KafkaTopicPartition: Int64?] = [:]
            for (tp, offset, _) in TopicPartitionList.read(list) { result[tp] = offset >= 0 ? offset : nil }
            return result
        }
    }
}

private final class AdminCallbacks: RdKafkaCallbackHandler {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
    func handleClientError(_ error: KafkaError) {
        logger.debug("kafka admin client error", metadata: ["error": "\(error)"])
    }
}
