/// What the event decoder expects of every input event.
///
/// Built by the worker from the `source` section of the configuration (`entity`, `event_time`,
/// `fields`) plus limits.
package struct EventDecoderConfiguration: Sendable, Hashable {
    /// How the event-time field is encoded.
    package enum TimestampFormat: String, Sendable, Hashable, CaseIterable {
        /// An RFC 3339 string, or a JSON number of epoch time: numbers whose magnitude is
        /// at least 1e11 are epoch milliseconds, smaller ones epoch seconds (1e11 s lies in
        /// the year 5138, 1e11 ms in March 1973, so real timestamps are never ambiguous).
        case auto
        /// An RFC 3339 string only (e.g. `"2026-01-02T03:04:05.678Z"`).
        case rfc3339
        /// A JSON number of milliseconds since the Unix epoch (fractions are floored).
        case epochMillis = "epoch_millis"
        /// A JSON number of seconds since the Unix epoch (fractions kept to the millisecond, floored).
        case epochSeconds = "epoch_seconds"
    }

    /// The declared fields; `DecodedEvent.values` is indexed like `schema.fields`.
    package var schema: EventSchema
    /// The field holding the entity id (a non-empty string or an integer).
    package var entityField: String
    /// The field holding the event time. Always required.
    package var eventTimeField: String
    /// How `eventTimeField` is encoded.
    package var timestampFormat: TimestampFormat
    /// The optional field holding a producer-assigned event id (a string or an integer).
    package var eventIDField: String?
    /// Payloads larger than this are rejected with `oversized` without being scanned.
    package var maxPayloadBytes: Int
    /// The deepest allowed nesting of objects and arrays; the top-level object is depth 1.
    /// Must lie in `1...EventDecoderConfiguration.nestingDepthLimit`.
    package var maxNestingDepth: Int
    /// Events whose time is later than `now + maxFutureSkewMillis` are rejected with `future_timestamp`.
    package var maxFutureSkewMillis: Int64

    /// The largest accepted `maxNestingDepth`; nested values are skipped recursively, and this bound
    /// keeps the recursion far from any thread's stack size.
    package static let nestingDepthLimit = 512

    /// Creates a configuration; see the properties for the meaning of each parameter.
    package init(
        schema: EventSchema,
        entityField: String,
        eventTimeField: String,
        timestampFormat: TimestampFormat = .auto,
        eventIDField: String? = nil,
        maxPayloadBytes: Int = 1 << 20,
        maxNestingDepth: Int = 64,
        maxFutureSkewMillis: Int64 = 3_600_000
    ) {
        self.schema = schema
        self.entityField = entityField
        self.eventTimeField = eventTimeField
        self.timestampFormat = timestampFormat
        self.eventIDField = eventIDField
        self.maxPayloadBytes = maxPayloadBytes
        self.maxNestingDepth = maxNestingDepth
        self.maxFutureSkewMillis = maxFutureSkewMillis
    }
}

/// A decoder configuration that cannot be used, with the setting that is wrong and what was expected.
package struct EventDecoderConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    package var message: String
    /// Creates an error.
    package init(message: String) { self.message = message }
    /// The message.
    package var description: String { message }
}
