/// An error from the snapshot writers (`ParquetWriter`, `CSVWriter`).
///
/// Names what went wrong (`code`), a readable message with what was expected,
/// and where: the column and the row (0-based, counting rows of the whole
/// file) when the error concerns a value, the path when it concerns the file.
package struct ExportError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        package var description: String { name }

        /// A file operation (open, write, fsync, rename) failed.
        package static let io = Code("io")
        /// A value of the wrong type was appended to a column.
        package static let wrongType = Code("wrongType")
        /// NULL was appended to a column declared required.
        package static let nullInRequiredColumn = Code("nullInRequiredColumn")
        /// A row got two values for one column, or `endRow()` found a column without a value.
        package static let rowShape = Code("rowShape")
        /// The column index or name does not exist in the schema.
        package static let unknownColumn = Code("unknownColumn")
        /// The writer was used after `close()` or after a failure.
        package static let closed = Code("closed")
        /// The schema or options are invalid.
        package static let invalidSchema = Code("invalidSchema")
    }

    package let code: Code
    package let message: String
    package let column: String?
    package let row: Int64?
    package let path: String?

    package init(code: Code, message: String, column: String? = nil, row: Int64? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.column = column
        self.row = row
        self.path = path
    }

    package var description: String {
        var text = "ExportError(\(code)): \(message)"
        if let column { text += " [column \"\(column)\"]" }
        if let row { text += " [row \(row)]" }
        if let path { text += " [file \(path)]" }
        return text
    }
}
