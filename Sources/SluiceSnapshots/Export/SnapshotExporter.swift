import Foundation
import Logging
import SluiceExport
import SluiceFeatureStore
import SluicePostgres

/// Exports labelled rows into a snapshot: `<directory>/<snapshot_id>/` with `data.parquet`, `data.csv` and
/// `manifest.json`, then records it in the `snapshots` table.
///
/// How it works (docs/snapshots.md):
/// 1. One read-only REPEATABLE READ transaction, so every read sees the same rows.
/// 2. The feature columns are planned from a sample — the oldest and newest rows of the selection, typed with
///    `json_each` / `json_typeof` in SQL.
/// 3. One `COPY … TO STDOUT (FORMAT binary)` streams the rows in event-time order into the Parquet and CSV
///    writers; memory holds one row group. Every row's features are checked against the plan as they are
///    written. If a row names a feature the sample did not have (or gives a value to a feature the sample only
///    saw null), the pass stops writing, collects the names and types of the remaining rows, and a second COPY
///    writes the snapshot with the complete plan. A feature with numbers in some rows and strings in others is
///    refused either way. (A full `json_each` pass over the selection costs about 20 s per million rows; the
///    sample plus the check costs nothing measurable.)
/// 4. The files are written under a hidden staging directory (`.<snapshot_id>.partial`), each file through a
///    temporary name and fsync; the manifest records their sizes and SHA-256; one `rename` publishes the
///    directory; then the `snapshots` row is inserted. A failure at any step removes what was written.
package struct SnapshotExporter: Sendable {
    /// The session the export uses; nothing else may use it meanwhile.
    package let connection: PostgresConnection
    /// The feature store's schema (holds `labelled` and `snapshots`).
    package let schema: String
    private let quotedSchema: String
    private let logger: Logger
    private let nowMillis: @Sendable () -> Int64

    /// - Parameters:
    ///   - connection: a session used by this exporter alone while it runs.
    ///   - schema: the feature store's schema, a plain identifier.
    ///   - nowMillis: the clock for `created_at` and the snapshot id (epoch milliseconds).
    /// - Throws: `FeatureStoreError` `.invalidSchema` when `schema` is not a plain identifier.
    package init(connection: PostgresConnection, schema: String, logger: Logger = Logger(label: "sluice.snapshots"),
                 nowMillis: @escaping @Sendable () -> Int64 = SnapshotExporter.systemMillis) throws {
        self.connection = connection
        self.schema = schema
        self.quotedSchema = try FeatureStore.quotedIdentifier(schema)
        self.logger = logger
        self.nowMillis = nowMillis
    }

    /// The wall clock in epoch milliseconds.
    package static let systemMillis: @Sendable () -> Int64 = {
        Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))
    }

    /// Exports the labelled rows `request` selects and records the snapshot.
    /// - Returns: the snapshot, published and recorded.
    /// - Throws: ``SnapshotError`` (`.invalidRequest`, `.noRows` — nothing written —, `.mixedFeatureTypes`,
    ///   `.invalidData`, `.io`, `.notMigrated`), or `PostgresError`. Nothing is left on disk or in the table
    ///   after a failure.
    package func export(_ request: SnapshotRequest) async throws -> Snapshot {
        try request.validate()
        let createdAt = nowMillis()
        let id = SnapshotID.make(createdAtMillis: createdAt)
        let root = SnapshotDirectory.absolute(request.directory)
        let final = root + "/" + id
        let staging = root + "/." + id + ".partial"
        try SnapshotDirectory.create(root)
        try SnapshotDirectory.create(staging)
        var published = false
        do {
            let started = ContinuousClock.now
            let pass = try await writeRows(request, snapshotID: id, into: staging)
            let parquet = try FileDigest.sha256(path: staging + "/" + Snapshot.FileName.parquet)
            let csv = try FileDigest.sha256(path: staging + "/" + Snapshot.FileName.csv)
            let manifest = makeManifest(
                request, snapshotID: id, createdAt: createdAt, pass: pass,
                files: [SnapshotManifest.File(name: Snapshot.FileName.parquet, bytes: parquet.bytes, sha256: parquet.hex),
                        SnapshotManifest.File(name: Snapshot.FileName.csv, bytes: csv.bytes, sha256: csv.hex)])
            let manifestJSON = try Self.encode(manifest)
            try Self.writeFile(staging + "/" + Snapshot.FileName.manifest, manifestJSON)
            try SnapshotDirectory.publish(staging, as: final, in: root)
            published = true
            let snapshot = Snapshot(manifest: manifest, directory: final, manifestJSON: manifestJSON)
            try await record(snapshot, request: request, createdAt: createdAt)
            logger.info("snapshot exported", metadata: [
                "snapshot_id": "\(id)", "rows": "\(manifest.rows)", "holdout_rows": "\(manifest.holdoutRows)",
                "features": "\(pass.plan.names.count)", "directory": "\(final)",
                "seconds": "\((ContinuousClock.now - started).components.seconds)",
            ])
            return snapshot
        } catch {
            SnapshotDirectory.remove(published ? final : staging)
            throw Self.explain(error, schema: schema)
        }
    }

    // MARK: the rows

    /// What a successful pass leaves: the plan it wrote with, the columns, counts and Parquet layout.
    struct Pass {
        var plan: FeaturePlan
        var layout: SnapshotLayout
        var stats: SnapshotStats
        var rowGroups: Int
    }

    /// Plans the features, streams the rows into the staging directory's data files and closes them.
    private func writeRows(_ request: SnapshotRequest, snapshotID: String, into staging: String) async throws -> Pass {
        let query = SnapshotQuery(quotedSchema: quotedSchema, request: request)
        let split = request.holdoutFraction > 0 ? HoldoutSplit(fraction: request.holdoutFraction) : nil
        return try await connection.transaction(isolation: .repeatableRead) { connection in
            try await connection.execute("SET TRANSACTION READ ONLY")
            // JIT compilation only adds start-up time to a plain scan like this one.
            try await connection.execute("SET LOCAL jit = off")
            if let model = request.modelName {
                try await connection.execute("SELECT set_config($1, $2, true)", [SnapshotQuery.modelSetting, model])
            }
            var observed = try await sample(connection, query)
            // The second pass has every feature the first one saw, so it cannot miss.
            for attempt in 1...2 {
                let plan = try FeaturePlan(observed)
                let encoder = try SnapshotRowEncoder(
                    plan: plan, split: split, parquetPath: staging + "/" + Snapshot.FileName.parquet,
                    csvPath: staging + "/" + Snapshot.FileName.csv, rowGroupRows: request.rowGroupRows, snapshotID: snapshotID)
                var surveying = false
                var survey = FeatureSurvey()
                do {
                    try await connection.copyOut(query.copy) { reader in
                        var decoder = PostgresBinaryCopyDecoder()
                        while let chunk = try await reader.next() {
                            try decoder.decode(chunk) { row in
                                if surveying {
                                    try survey.record(row, featuresField: SnapshotRowEncoder.Field.features)
                                } else if try encoder.encode(row) == .planMiss {
                                    surveying = true
                                    try survey.record(row, featuresField: SnapshotRowEncoder.Field.features)
                                }
                            }
                        }
                        try decoder.finish()
                    }
                } catch {
                    encoder.discard()
                    throw error
                }
                guard surveying else {
                    guard encoder.stats.rows > 0 else {
                        encoder.discard()
                        throw SnapshotError(.noRows, "no labelled rows match \(request.selectionDescription) in schema \(schema); nothing was written")
                    }
                    try encoder.close()
                    return Pass(plan: plan, layout: encoder.layout, stats: encoder.stats, rowGroups: encoder.parquet.rowGroupsWritten)
                }
                encoder.discard()
                for (name, observation) in encoder.observations { observed[name, default: FeatureObservation()].merge(observation) }
                for (name, observation) in survey.observed { observed[name, default: FeatureObservation()].merge(observation) }
                logger.info("snapshot features differ from the sample's; writing again with every feature", metadata: [
                    "snapshot_id": "\(snapshotID)", "pass": "\(attempt)", "features": "\(observed.count)",
                ])
            }
            throw SnapshotError(.invalidData, "the features changed between two reads of one transaction; this is a bug")
        }
    }

    /// Feature names and kinds of the sample rows.
    private func sample(_ connection: PostgresConnection, _ query: SnapshotQuery) async throws -> [String: FeatureObservation] {
        var observed: [String: FeatureObservation] = [:]
        for row in try await connection.query(query.sample) {
            let name = try row.decode(String.self, column: 0)
            let kindName = try row.decode(String.self, column: 1)
            guard let kind = FeatureValueKind(jsonName: kindName) else {
                throw SnapshotError(.invalidData, "feature '\(name)' has values of JSON type '\(kindName)'")
            }
            observed[name, default: FeatureObservation()].record(kind, predictionID: (try? row.decode(String.self, column: 3)) ?? "?")
        }
        return observed
    }

    // MARK: manifest and record

    private func makeManifest(_ request: SnapshotRequest, snapshotID: String, createdAt: Int64, pass: Pass,
                              files: [SnapshotManifest.File]) -> SnapshotManifest {
        let modelName = request.modelName ?? pass.stats.singleModelName
        let modelVersion = request.modelVersion ?? (modelName == nil ? nil : pass.stats.singleModelVersion)
        let split = request.holdoutFraction > 0
            ? SnapshotManifest.Split(column: "split", key: "entity_id", hash: "fnv1a-64+fmix64", rule: HoldoutSplit.rule)
            : nil
        return SnapshotManifest(
            snapshotID: snapshotID, createdAt: RFC3339.format(createdAt), reason: request.reason, alertID: request.alertID,
            model: .init(name: modelName, version: modelVersion),
            timeRange: .init(since: request.sinceMillis.map(RFC3339.format), until: request.untilMillis.map(RFC3339.format),
                             minEventTime: RFC3339.format(pass.stats.minEventMillis), maxEventTime: RFC3339.format(pass.stats.maxEventMillis)),
            rows: pass.stats.rows, holdoutRows: pass.stats.holdoutRows, holdoutFraction: request.holdoutFraction, split: split,
            source: "\(schema).labelled", columns: pass.layout.columns, files: files,
            parquet: .init(compression: "snappy", rowGroupRows: request.rowGroupRows, rowGroups: pass.rowGroups))
    }

    /// Inserts the `snapshots` row.
    private func record(_ snapshot: Snapshot, request: SnapshotRequest, createdAt: Int64) async throws {
        let manifest = snapshot.manifest
        var binds = PostgresBindings()
        try binds.append(snapshot.snapshotID)
        try binds.append(PostgresTimestamp(millisecondsSinceUnixEpoch: createdAt))
        try binds.append(request.reason.rawValue)
        try binds.append(request.alertID)
        try binds.append(manifest.model.name)
        try binds.append(manifest.model.version.map { Int32(clamping: $0) })
        try binds.append(request.sinceMillis.map(PostgresTimestamp.init(millisecondsSinceUnixEpoch:)))
        try binds.append(request.untilMillis.map(PostgresTimestamp.init(millisecondsSinceUnixEpoch:)))
        try binds.append(manifest.rows)
        try binds.append(manifest.holdoutRows)
        try binds.append(snapshot.directory)
        try binds.append(snapshot.parquetPath)
        try binds.append(snapshot.csvPath)
        try binds.append(snapshot.manifestPath)
        try binds.append(manifest.file(Snapshot.FileName.parquet)?.sha256 ?? "")
        try binds.append(manifest.file(Snapshot.FileName.csv)?.sha256 ?? "")
        try binds.append(String(decoding: snapshot.manifestJSON, as: UTF8.self))
        try await connection.execute("""
            INSERT INTO \(quotedSchema).snapshots (snapshot_id, created_at, reason, alert_id, model_name, model_version, since, until,
                rows, holdout_rows, directory, parquet_file, csv_file, manifest_file, parquet_sha256, csv_sha256, manifest)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::json)
            """, binds)
    }

    // MARK: helpers

    /// Pretty JSON with sorted keys: stable bytes for the same manifest.
    static func encode(_ manifest: SnapshotManifest) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(manifest)) + [UInt8(ascii: "\n")]
    }

    /// Writes `bytes` to `path` through a temporary file, fsync and rename.
    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        do throws(ExportError) {
            let output = try AtomicFileOutput(path: path)
            do throws(ExportError) {
                try output.writeAll(bytes)
                try output.commit()
            } catch {
                output.discard()
                throw error
            }
        } catch {
            throw SnapshotError(.io, "cannot write \(path): \(error.message)")
        }
    }

    /// Says what to do about a missing table or schema; other errors pass unchanged.
    static func explain(_ error: any Error, schema: String) -> any Error {
        if let error = error as? PostgresError, error.sqlState == "42P01" || error.sqlState == "3F000" {
            return SnapshotError(.notMigrated, "schema \(schema) has no labelled/snapshots tables (\(error.message)): run `sluice migrate` to apply the feature store's migrations")
        }
        return error
    }
}
