/// `flush:` — when a lane closes its micro-batch (whichever limit is reached first).
package struct FlushConfig: Hashable, Sendable {
    /// `max_events`: events per micro-batch.
    package var maxEvents: Int = 5000
    /// `max_interval`: longest time a micro-batch stays open.
    package var maxInterval: Duration = .milliseconds(200)

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> FlushConfig {
        var c = FlushConfig()
        c.maxEvents = m.value("max_events", default: c.maxEvents, .integer(1...1_000_000))
        c.maxInterval = m.value("max_interval", default: c.maxInterval, .duration(.milliseconds(1)...Duration.seconds(3600)))
        return c
    }
}
