import SluiceFeatureStore
import SluicePostgres

/// Looks snapshots up in the feature store's `snapshots` table.
package struct SnapshotCatalog: Sendable {
    let connection: PostgresConnection
    /// The schema, validated and quoted.
    let s: String

    /// - Parameters:
    ///   - connection: The session to query on (not inside another's transaction).
    ///   - schema: The feature store schema holding `snapshots` (migration 4).
    /// - Throws: `FeatureStoreError` when `schema` is not a plain identifier.
    package init(connection: PostgresConnection, schema: String) throws {
        self.connection = connection
        self.s = try FeatureStore.quotedIdentifier(schema)
    }

    static let columns = "snapshot_id, created_at, reason, model_name, model_version, rows, holdout_rows, directory, csv_file"

    /// The snapshot with id `id`, or nil.
    /// - Throws: `PostgresError`.
    package func snapshot(id: String) async throws -> SnapshotRecord? {
        let rows = try await connection.query("SELECT \(Self.columns) FROM \(s).snapshots WHERE snapshot_id = $1", [id], retryIdempotent: true)
        return try rows.first.map(Self.decode)
    }

    /// The newest snapshot (by `created_at`, then id) exported for model `name`, or nil.
    /// - Throws: `PostgresError`.
    package func newest(modelName name: String) async throws -> SnapshotRecord? {
        let rows = try await connection.query("""
            SELECT \(Self.columns) FROM \(s).snapshots WHERE model_name = $1 ORDER BY created_at DESC, snapshot_id DESC LIMIT 1
            """, [name], retryIdempotent: true)
        return try rows.first.map(Self.decode)
    }

    /// How many snapshots there are, of any model (for the message when `name` has none).
    /// - Throws: `PostgresError`.
    package func count() async throws -> Int {
        let rows = try await connection.query("SELECT count(*) FROM \(s).snapshots", retryIdempotent: true)
        return try rows.first?.decode(Int.self, column: 0) ?? 0
    }

    static func decode(_ row: PostgresRow) throws -> SnapshotRecord {
        SnapshotRecord(
            snapshotID: try row.decode(String.self, column: 0),
            createdAtMillis: try row.decode(PostgresTimestamp.self, column: 1).millis,
            reason: try row.decode(String.self, column: 2),
            modelName: try row.decode(String?.self, column: 3),
            modelVersion: try row.decode(Int?.self, column: 4),
            rows: try row.decode(Int64.self, column: 5),
            holdoutRows: try row.decode(Int64.self, column: 6),
            directory: try row.decode(String.self, column: 7),
            csvFile: try row.decode(String.self, column: 8))
    }
}
