/// Settings of a `KafkaConsumer` in a consumer group with manual offset control: librdkafka never commits
/// or stores offsets on its own; the caller decides what to commit (or keeps offsets elsewhere, as Sluice does).
package struct KafkaConsumerConfiguration: Sendable {
    /// Where to start when a partition has no committed offset (`auto.offset.reset`).
    package enum OffsetReset: String, Sendable {
        case earliest, latest
    }

    /// Partition assignment strategy (`partition.assignment.strategy`).
    package enum AssignmentStrategy: String, Sendable {
        case range
        case roundRobin = "roundrobin"
        case cooperativeSticky = "cooperative-sticky"
    }

    package var bootstrapServers: String
    /// Consumer group (`group.id`).
    package var groupID: String
    package var clientID: String = "sluice"
    package var offsetReset: OffsetReset = .earliest
    package var assignmentStrategy: AssignmentStrategy = .range
    /// Group session timeout (`session.timeout.ms`): how long the coordinator waits for heartbeats.
    package var sessionTimeoutMillis: Int = 10_000
    /// Heartbeat interval (`heartbeat.interval.ms`).
    package var heartbeatIntervalMillis: Int = 1_000
    /// Maximum time between polls before the member leaves the group (`max.poll.interval.ms`).
    package var maxPollIntervalMillis: Int = 300_000
    /// Most messages taken from librdkafka per poll; a batch is handed to Swift as one event. A poll does not wait
    /// for a full batch: it waits for the first message and takes what else is already fetched.
    package var pollBatchSize: Int = 2_048
    /// How long one poll waits for the first message.
    package var pollTimeoutMillis: Int = 100
    /// Batches that may wait in the event stream before the poll thread stops fetching (backpressure).
    package var bufferedBatches: Int = 4
    /// How long the poll thread waits for the caller to answer an assignment or revocation before it goes on
    /// with the broker's committed offsets (assignment) or drops the partitions (revocation).
    package var rebalanceResponseTimeoutMillis: Int = 60_000
    /// Local prefetch bound per partition (`queued.max.messages.kbytes`).
    package var queuedMaxKilobytes: Int = 16_384
    /// Any other librdkafka property, passed through as given (applied last).
    package var properties: [String: String] = [:]

    package init(bootstrapServers: String, groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// The librdkafka properties this configuration sets, typed ones first, pass-through last.
    package var librdkafkaProperties: [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID),
            ("client.id", clientID),
            ("auto.offset.reset", offsetReset.rawValue),
            ("partition.assignment.strategy", assignmentStrategy.rawValue),
            ("session.timeout.ms", String(sessionTimeoutMillis)),
            ("heartbeat.interval.ms", String(heartbeatIntervalMillis)),
            ("max.poll.interval.ms", String(maxPollIntervalMillis)),
            ("queued.max.messages.kbytes", String(queuedMaxKilobytes)),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"),
        ]
        result += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
