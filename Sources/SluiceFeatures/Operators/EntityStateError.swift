/// A serialized entity state that cannot be restored.
package struct EntityStateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the bytes were refused.
    package enum Reason: String, Sendable, Hashable {
        /// The version byte is not one this build reads.
        case unsupportedVersion = "unsupported_version"
        /// The state was written for a different set of feature specs.
        case featureSetMismatch = "feature_set_mismatch"
        /// The bytes are truncated or inconsistent.
        case corrupt
    }

    /// Stable error code prefix for logs and metrics.
    package static let code = "entity_state_invalid"
    /// Why the bytes were refused.
    package var reason: Reason
    /// What was wrong and what was expected.
    package var message: String

    package var description: String { message }
}
