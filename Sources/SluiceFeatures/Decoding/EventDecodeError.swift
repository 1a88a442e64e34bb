/// Why an input event was rejected: a stable reason code plus a readable message.
///
/// The worker sends rejected events to the dead-letter topic with `reason.rawValue` as the
/// `sluice.error` header and uses it as the metric label, so the raw codes never change.
package struct EventDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable reason code of a rejected event.
    package enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The payload is larger than `EventDecoderConfiguration.maxPayloadBytes`.
        case oversized
        /// A string holds bytes that are not valid UTF-8.
        case invalidUTF8 = "invalid_utf8"
        /// The payload is not syntactically valid JSON (including nesting deeper than the limit).
        case invalidJSON = "invalid_json"
        /// The payload is valid JSON but its top-level value is not an object.
        case notObject = "not_object"
        /// The entity field is absent, null or an empty string.
        case missingEntity = "missing_entity"
        /// A required field (event time or a non-optional schema field) is absent or null.
        case missingField = "missing_field"
        /// A field holds a JSON value of the wrong type (e.g. a string for a `double` field).
        case wrongType = "wrong_type"
        /// A number cannot be represented: outside the `Int64` range for `int` fields or outside the finite `Double` range.
        case invalidNumber = "invalid_number"
        /// The event-time field holds something that is not a valid timestamp in the configured format.
        case invalidTimestamp = "invalid_timestamp"
        /// The event time lies later than `now + maxFutureSkewMillis`.
        case futureTimestamp = "future_timestamp"
        /// The event is later than the allowed lateness. Never produced by the decoder; assigned by the worker.
        case late
    }

    /// The stable reason code.
    package var reason: Reason
    /// A human-readable explanation naming the field, the offending value and what was expected.
    package var message: String
    /// The name of the offending field, when the error concerns one field.
    package var field: String?
    /// The byte offset in the payload where the problem was found, when known.
    package var byteOffset: Int?

    /// Creates an error.
    package init(reason: Reason, message: String, field: String? = nil, byteOffset: Int? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
        self.byteOffset = byteOffset
    }

    /// `"<reason>: <message>"`.
    package var description: String { "\(reason.rawValue): \(message)" }
}
