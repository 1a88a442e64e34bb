/// One column of a snapshot table: its name, value type and whether it may hold NULL.
package struct ParquetColumn: Hashable, Sendable {
    /// The column name as readers see it.
    package var name: String
    /// The value type.
    package var type: ParquetColumnType
    /// `true` when the column may hold NULL (Parquet repetition OPTIONAL).
    package var isOptional: Bool

    /// Creates a column.
    /// - Parameters:
    ///   - name: non-empty column name.
    ///   - type: value type.
    ///   - isOptional: whether NULL is allowed; defaults to `false` (REQUIRED).
    package init(name: String, type: ParquetColumnType, isOptional: Bool = false) {
        self.name = name
        self.type = type
        self.isOptional = isOptional
    }

    /// Shorthand for an optional (nullable) column.
    package static func optional(_ name: String, _ type: ParquetColumnType) -> ParquetColumn {
        ParquetColumn(name: name, type: type, isOptional: true)
    }

    /// Shorthand for a required (non-null) column.
    package static func required(_ name: String, _ type: ParquetColumnType) -> ParquetColumn {
        ParquetColumn(name: name, type: type, isOptional: false)
    }
}
