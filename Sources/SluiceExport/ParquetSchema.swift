/// The flat column layout of a snapshot table, shared by `ParquetWriter` and `CSVWriter`.
package struct ParquetSchema: Hashable, Sendable {
    /// The columns in file order.
    package let columns: [ParquetColumn]

    /// Creates a schema.
    /// - Throws: `ExportError` with code `.invalidSchema` when there are no
    ///   columns, a name is empty, or two columns share a name.
    package init(_ columns: [ParquetColumn]) throws(ExportError) {
        guard !columns.isEmpty else {
            throw ExportError(code: .invalidSchema, message: "a schema needs at least one column, got none")
        }
        var seen = Set<String>()
        for column in columns {
            guard !column.name.isEmpty else {
                throw ExportError(code: .invalidSchema, message: "column names must be non-empty")
            }
            guard seen.insert(column.name).inserted else {
                throw ExportError(
                    code: .invalidSchema, message: "column names must be unique, \"\(column.name)\" appears twice",
                    column: column.name)
            }
        }
        self.columns = columns
    }

    /// The index of the column named `name`, or `nil`.
    package func index(of name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}
