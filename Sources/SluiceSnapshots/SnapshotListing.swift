import SluiceFeatureStore
import SluicePostgres

/// Reads the `snapshots` table.
package struct SnapshotListing: Sendable {
    package let connection: PostgresConnection
    package let schema: String
    private let quotedSchema: String

    /// - Throws: `FeatureStoreError` `.invalidSchema` when `schema` is not a plain identifier.
    package init(connection: PostgresConnection, schema: String) throws {
        self.connection = connection
        self.schema = schema
        self.quotedSchema = try FeatureStore.quotedIdentifier(schema)
    }

    /// Snapshots, newest first; only those of `model` when given.
    /// - Throws: ``SnapshotError`` `.notMigrated` when the table is missing; `PostgresError`.
    package func list(model: String? = nil, limit: Int? = nil) async throws -> [SnapshotEntry] {
        var sql = """
            SELECT snapshot_id, created_at, reason, alert_id, model_name, model_version, since, until, rows, holdout_rows,
                   directory, parquet_file, csv_file, manifest_file, parquet_sha256, csv_sha256
            FROM \(quotedSchema).snapshots
            """
        var binds = PostgresBindings()
        if let model {
            sql += " WHERE model_name = $1"
            try binds.append(model)
        }
        sql += " ORDER BY created_at DESC, snapshot_id DESC"
        if let limit { sql += " LIMIT \(max(limit, 0))" }
        let rows: PostgresRows
        do {
            rows = try await connection.query(sql, binds, retryIdempotent: true)
        } catch {
            throw SnapshotExporter.explain(error, schema: schema)
        }
        return try rows.map { row in
            SnapshotEntry(
                snapshotID: try row.decode(String.self, column: 0),
                createdAtMillis: Self.millis(try row.decode(PostgresTimestamp.self, column: 1)),
                reason: try row.decode(String.self, column: 2),
                alertID: try row.decode(String?.self, column: 3),
                modelName: try row.decode(String?.self, column: 4),
                modelVersion: try row.decode(Int?.self, column: 5),
                sinceMillis: try row.decode(PostgresTimestamp?.self, column: 6).map(Self.millis),
                untilMillis: try row.decode(PostgresTimestamp?.self, column: 7).map(Self.millis),
                rows: try row.decode(Int64.self, column: 8),
                holdoutRows: try row.decode(Int64.self, column: 9),
                directory: try row.decode(String.self, column: 10),
                parquetFile: try row.decode(String.self, column: 11),
                csvFile: try row.decode(String.self, column: 12),
                manifestFile: try row.decode(String.self, column: 13),
                parquetSHA256: try row.decode(String.self, column: 14),
                csvSHA256: try row.decode(String.self, column: 15))
        }
    }

    /// The manifest JSON stored with a snapshot, or nil when there is no such snapshot.
    package func manifestJSON(snapshotID: String) async throws -> String? {
        do {
            return try await connection.query("SELECT manifest::text FROM \(quotedSchema).snapshots WHERE snapshot_id = $1",
                                              [snapshotID], retryIdempotent: true).first?.decode(String.self, column: 0)
        } catch {
            throw SnapshotExporter.explain(error, schema: schema)
        }
    }

    private static func millis(_ timestamp: PostgresTimestamp) -> Int64 {
        let (quotient, remainder) = timestamp.microsecondsSinceUnixEpoch.quotientAndRemainder(dividingBy: 1_000)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
