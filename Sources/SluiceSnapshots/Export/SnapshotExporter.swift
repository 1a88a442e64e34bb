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
            let manifest = makeManifest(request, snapshotID: id, createdAt: createdAt, pass: pass)
            let manifestJSON = try Self.encode(manifest)
            try Self.writeFile(staging + "/" + Snapshot.FileName.manifest, manifestJSON)
            try SnapshotDirectory.publish(staging, as: final, in: root)
            published = true
            let snapshot = Snapshot(manifest: manifest, directory: final, manifestJSON: manifestJSON)
            try await record(snapshot, request: request, createdAt: createdAt)
            logger.info("snapshot exported", metadata: [
                "snapshot_id": "\(id)", "rows": "\(manifest.rows)", "holdout_rows": "\(manifest.holdoutRows)",
                "features": "\(pass.plan.names.count)", "directory": "\(final)",
                "seconds": "\(Self.seconds(ContinuousClock.now - started))", "stream_seconds": "\(Self.seconds(pass.streamTime))",
                "close_seconds": "\(Self.seconds(pass.closeTime))",
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
        /// `data.parquet` and `data.csv`, closed and hashed.
        var files: [SnapshotManifest.File]
        /// Time spent streaming the rows into the files, and closing (fsync) and hashing them.
        var streamTime: Duration
        var closeTime: Duration
    }

    /// Seconds with millisecond precision, for logs.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        let fraction = String(millis % 1_000)
        return "\(millis / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
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
                let outcome = try await writePass(plan: plan, split: split, query: query, connection: connection,
                                                  request: request, snapshotID: snapshotID, staging: staging)
                switch outcome {
                case .written(let pass):
                    return pass
                case .replan(let seen):
                    for (name, observation) in seen { observed[name, default: FeatureObservation()].merge(observation) }
                    logger.info("snapshot features differ from the sample's; writing again with every feature", metadata: [
                        "snapshot_id": "\(snapshotID)", "pass": "\(attempt)", "features": "\(observed.count)",
                    ])
                }
            }
            throw SnapshotError(.invalidData, "the features changed between two reads of one transaction; this is a bug")
        }
    }

    /// How a pass ended.
    private enum PassOutcome {
        case written(Pass)
        /// A row did not fit the plan: what the pass saw, to plan again with.
        case replan([String: FeatureObservation])
    }

    /// One COPY of the selection through the pipeline: this task parses each chunk into a batch while the Parquet
    /// and CSV sinks write earlier batches on their own threads (at most two queued per sink, so memory holds a
    /// few batches and COPY chunks besides the writers' row groups).
    private func writePass(plan: FeaturePlan, split: HoldoutSplit?, query: SnapshotQuery, connection: PostgresConnection,
                           request: SnapshotRequest, snapshotID: String, staging: String) async throws -> PassOutcome {
        let layout = try SnapshotLayout(plan: plan, split: split != nil)
        let parquetPath = staging + "/" + Snapshot.FileName.parquet
        let csvPath = staging + "/" + Snapshot.FileName.csv
        var options = ParquetWriterOptions()
        options.rowGroupRows = request.rowGroupRows
        options.compression = .snappy
        options.keyValueMetadata = [(key: "sluice.snapshot_id", value: snapshotID)]
        let parquetWriter: ParquetWriter
        let csvWriter: CSVWriter
        do {
            parquetWriter = try ParquetWriter(path: parquetPath, schema: layout.schema, options: options)
        } catch {
            throw SnapshotError(.io, "cannot create \(parquetPath): \(error.message)")
        }
        do {
            csvWriter = try CSVWriter(path: csvPath, schema: layout.schema)
        } catch {
            parquetWriter.discard()
            throw SnapshotError(.io, "cannot create \(csvPath): \(error.message)")
        }
        let parquet = SnapshotFileSink(.parquet(parquetWriter), path: parquetPath, layout: layout)
        let csv = SnapshotFileSink(.csv(csvWriter), path: csvPath, layout: layout)
        let parser = SnapshotRowParser(plan: plan, split: split)
        let started = ContinuousClock.now
        var surveying = false
        var survey = FeatureSurvey()
        do {
            try await connection.copyOut(query.copy) { reader in
                var decoder = PostgresBinaryCopyDecoder()
                var expectedRows = 2_048
                while let chunk = try await reader.next() {
                    var batch = SnapshotBatch(chunk: chunk, featureCount: parser.featureCount, expectedRows: expectedRows)
                    try chunk.withUnsafeBytes { bytes in
                        guard let chunkBase = bytes.baseAddress else { return }
                        try decoder.decode(bytes: bytes) { row in
                            if surveying {
                                try survey.record(row, featuresField: SnapshotRowParser.Field.features)
                            } else if try parser.parse(row, into: &batch, chunkBase: chunkBase) == .planMiss {
                                surveying = true
                                try survey.record(row, featuresField: SnapshotRowParser.Field.features)
                            }
                        }
                    }
                    guard !surveying, batch.count > 0 else { continue }
                    expectedRows = max(expectedRows, batch.count)
                    // Each sink writes on its own thread; these wait only when a sink is two batches behind.
                    try await parquet.submit(batch)
                    try await csv.submit(batch)
                }
                try decoder.finish()
            }
        } catch {
            await parquet.discard()
            await csv.discard()
            throw error
        }
        if surveying {
            await parquet.discard()
            await csv.discard()
            var seen = parser.observations
            for (name, observation) in survey.observed { seen[name, default: FeatureObservation()].merge(observation) }
            return .replan(seen)
        }
        guard parser.stats.rows > 0 else {
            await parquet.discard()
            await csv.discard()
            throw SnapshotError(.noRows, "no labelled rows match \(request.selectionDescription) in schema \(schema); nothing was written")
        }
        // Both files are synced, renamed and hashed at the same time, each on its sink's thread.
        let streamed = ContinuousClock.now
        async let parquetSummary = parquet.finish()
        async let csvSummary = csv.finish()
        let (parquetFile, csvFile) = try await (parquetSummary, csvSummary)
        return .written(Pass(plan: plan, layout: layout, stats: parser.stats, rowGroups: parquetFile.rowGroups,
                             files: [SnapshotManifest.File(name: Snapshot.FileName.parquet, bytes: parquetFile.bytes, sha256: parquetFile.sha256),
                                     SnapshotManifest.File(name: Snapshot.FileName.csv, bytes: csvFile.bytes, sha256: csvFile.sha256)],
                             streamTime: streamed - started, closeTime: ContinuousClock.now - streamed))
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

    private func makeManifest(_ request: SnapshotRequest, snapshotID: String, createdAt: Int64, pass: Pass) -> SnapshotManifest {
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
            source: "\(schema).labelled", columns: pass.layout.columns, files: pass.files,
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
