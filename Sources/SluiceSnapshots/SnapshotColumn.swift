/// One column of a snapshot, as the manifest lists it.
package struct SnapshotColumn: Sendable, Hashable, Codable {
    /// The column name.
    package var name: String
    /// The type, spelled as pyarrow prints the type it reads: `string`, `int64`, `double`, `bool`,
    /// `timestamp[ms, tz=UTC]`.
    package var type: String
    /// Whether the column may hold nulls.
    package var nullable: Bool

    package init(name: String, type: String, nullable: Bool) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}
