import CLibPQ

/// The rows returned by one statement, read straight from libpq's result
/// (binary format, no copy). A random-access collection of `PostgresRow`.
package struct PostgresRows: RandomAccessCollection, Sendable {
    let result: PGResultHandle?
    /// Column names in select-list order.
    package let columnNames: [String]
    /// Column types in select-list order.
    package let columnTypes: [PostgresDataType]
    /// Rows affected by INSERT/UPDATE/DELETE/MERGE/COPY, or returned by SELECT (from the command tag); 0 for other commands.
    package let affectedRows: Int
    /// The command tag, e.g. "INSERT 0 3".
    package let commandTag: String
    let rowCount: Int
    let query: String

    init(result: PGResultHandle?, query: String) {
        self.result = result
        self.query = query
        guard let pointer = result?.pointer else {
            columnNames = []
            columnTypes = []
            affectedRows = 0
            commandTag = ""
            rowCount = 0
            return
        }
        let columns = Int(PQnfields(pointer))
        columnNames = (0..<columns).map { String(cString: PQfname(pointer, Int32($0))) }
        columnTypes = (0..<columns).map { PostgresDataType(PQftype(pointer, Int32($0))) }
        affectedRows = Int(String(cString: PQcmdTuples(pointer))) ?? 0
        commandTag = String(cString: PQcmdStatus(pointer))
        rowCount = Int(PQntuples(pointer))
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { rowCount }
    package subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// Index of the column named `name`, if any.
    package func columnIndex(_ name: String) -> Int? { columnNames.firstIndex(of: name) }
}
