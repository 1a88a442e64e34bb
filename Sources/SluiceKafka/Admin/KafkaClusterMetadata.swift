/// Brokers and topics as reported by the cluster.
package struct KafkaClusterMetadata: Sendable {
    package struct Broker: Sendable, Hashable {
        package var id: Int32
        package var host: String
        package var port: Int32
    }

    package struct Partition: Sendable, Hashable {
        package var id: Int32
        package var leader: Int32
        package var replicas: [Int32]
        package var inSyncReplicas: [Int32]
        /// librdkafka's error name for this partition, nil when healthy.
        package var error: String?
    }

    package struct Topic: Sendable, Hashable {
        package var name: String
        package var partitions: [Partition]
        /// librdkafka's error name for this topic (e.g. `UNKNOWN_TOPIC_OR_PART`), nil when healthy.
        package var error: String?
    }

    package var brokers: [Broker]
    package var topics: [Topic]
}

/// A topic to create.
package struct KafkaNewTopic: Sendable, Hashable {
    package var name: String
    package var partitions: Int
    package var replicationFactor: Int
    /// Topic configuration entries, e.g. `retention.ms`.
    package var config: [String: String]

    package init(name: String, partitions: Int, replicationFactor: Int = 1, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// A consumer group's progress on one partition.
package struct KafkaPartitionLag: Sendable, Hashable {
    package var topicPartition: KafkaTopicPartition
    /// The group's committed offset (next to read), nil when nothing is committed.
    package var committed: Int64?
    /// The partition's high watermark (next offset to be written).
    package var highWatermark: Int64
    /// Messages not yet consumed: `highWatermark - committed`, or the whole partition when nothing is committed.
    package var lag: Int64
}
