/// The column type of a feature in a snapshot, taken from its values.
package enum SnapshotFeatureType: String, Sendable, Hashable, Codable {
    /// JSON numbers (a feature that is null in every selected row is a double column of nulls).
    case double
    /// JSON strings.
    case string
    /// JSON `true` / `false`.
    case bool
}
