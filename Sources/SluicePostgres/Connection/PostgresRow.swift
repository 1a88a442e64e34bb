import CLibPQ

/// One row of `PostgresRows`; decode columns by index or name.
package struct PostgresRow: Sendable {
    let rows: PostgresRows
    /// Zero-based row number.
    package let index: Int

    /// Number of columns.
    package var columnCount: Int { rows.columnNames.count }

    /// True when the column is SQL NULL.
    package func isNull(column: Int) -> Bool {
        guard let pointer = rows.result?.pointer, column >= 0, column < columnCount else { return true }
        return PQgetisnull(pointer, Int32(index), Int32(column)) == 1
    }

    /// Decodes column `column` (zero-based) as `T`; use `T?` to accept NULL.
    /// - Throws: `PostgresError` (`.decoding`) naming the column, its type and `T`.
    package func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column: Int) throws -> T {
        guard let pointer = rows.result?.pointer, column >= 0, column < columnCount else {
            throw PostgresError(
                code: .decoding,
                message: "column index \(column) is out of range; the result has \(columnCount) column(s) \(rows.columnNames)",
                query: rows.query)
        }
        let oid = rows.columnTypes[column]
        do {
            if PQgetisnull(pointer, Int32(index), Int32(column)) == 1 { return try T.decodeNull() }
            let length = Int(PQgetlength(pointer, Int32(index), Int32(column)))
            let value = UnsafeRawPointer(PQgetvalue(pointer, Int32(index), Int32(column)))
            return try T.decode(from: UnsafeRawBufferPointer(start: value, count: length), type: oid)
        } catch {
            let reason = (error as? PostgresDecodingFailure)?.reason ?? "\(error)"
            throw PostgresError(
                code: .decoding,
                message: "cannot decode column '\(rows.columnNames[column])' (index \(column), type \(oid.name), oid \(oid.rawValue)) of row \(index) as Swift \(T.self): \(reason)",
                query: rows.query)
        }
    }

    /// Decodes the column named `column` as `T`.
    /// - Throws: `PostgresError` (`.decoding`) when there is no such column or it cannot be decoded.
    package func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column: String) throws -> T {
        guard let index = rows.columnIndex(column) else {
            throw PostgresError(
                code: .decoding,
                message: "no column named '\(column)'; the result has \(rows.columnNames)",
                query: rows.query)
        }
        return try decode(type, column: index)
    }
}
