/// `flush:` — when a lane closes its micro-batch (whichever limit is reached first).
package struct FlushConfig: Hashable, Sendable {
    /// `max_events`: events per micro-batch.
    package var maxEvents: Int = 5000
    /// `max_interval`: longest time a micro-batch stays open.
    package var maxInterval: Duration = .milliseconds(200)
    /// `commit_interval`: the least time from one transaction's start to the next, unless a whole micro-batch
    /// (`max_events`) waits. Micro-batches are scored and published as they close; this paces only the
    /// PostgreSQL transactions that commit them (Kafka Streams' `commit.interval.ms`). 0: as soon as the
    /// previous transaction has finished.
    package var commitInterval: Duration = .milliseconds(100)

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> FlushConfig {
        var c = FlushConfig()
        c.maxEvents = m.value("max_events", default: c.maxEvents, .integer(1...1_000_000))
        c.maxInterval = m.value("max_interval", default: c.maxInterval, .duration(.milliseconds(1)...Duration.seconds(3600)))
        c.commitInterval = m.value("commit_interval", default: c.commitInterval, .duration(.zero...Duration.seconds(3600)))
        return c
    }
}
