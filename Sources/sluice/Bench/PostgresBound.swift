import Foundation
import Logging
import SluiceFeatureStore
import SluicePostgres

/// The bound PostgreSQL sets on a pipeline run: the rate at which PostgreSQL alone absorbs the run's own writes,
/// replayed through the feature store's commit path (`FeatureStore.commit`: next offsets with their epochs,
/// entity upserts, feature-log COPY, one transaction per micro-batch) into a fresh schema, with no Kafka,
/// decoding, features or scoring in the way.
///
/// The micro-batches are the run's own: the feature-log rows each transaction wrote (grouped by `logged_at`, the
/// transaction's start time), with their predictions, and an upsert of every entity they touched. The entity rows
/// carry the state and features the run ended with (the store keeps only the latest), so a replayed upsert writes
/// as many bytes as the run's last one for that entity, never fewer. Drift reports (one row per 10,000 events) are
/// left out. Rows are read between commits on a second connection, and the feature-log COPY data is encoded before
/// each transaction as the worker encodes it; only the commits are timed.
enum PostgresBound {
    /// What of each micro-batch is replayed: everything (the bound), or one part of it (to see what costs what).
    enum Part: String, Codable, CaseIterable {
        case all
        /// Feature-log rows (COPY) and offsets, no entity upserts.
        case featureLog = "feature_log"
        /// Entity upserts and offsets, no feature-log rows.
        case entities
    }

    struct Result: Codable {
        var part: Part
        var rows: Int
        var microBatches: Int
        /// Seconds spent in the commits, back to back.
        var seconds: Double
        var rowsPerSec: Double
        /// CPU seconds per million rows of the backend that committed (nil when PostgreSQL is on another host).
        var postgresCPUSecondsPerMillion: Double?
    }

    static func measure(url: String, sourceSchema: String, group: String, featureSet: String, synchronousCommit: Bool,
                        keep: Bool, part: Part = .all, logger: Logger) async throws -> Result {
        let reader = try await PostgresConnection.connect(url: url, logger: logger)
        let writer = try await PostgresConnection.connect(url: url, logger: logger)
        do {
            let result = try await replay(sourceSchema: sourceSchema, group: group, featureSet: featureSet, synchronousCommit: synchronousCommit,
                                          keep: keep, part: part, reader: reader, writer: writer, logger: logger)
            await reader.close()
            await writer.close()
            return result
        } catch {
            await reader.close()
            await writer.close()
            throw error
        }
    }

    private static func replay(sourceSchema: String, group: String, featureSet: String, synchronousCommit: Bool, keep: Bool, part: Part,
                               reader: PostgresConnection, writer: PostgresConnection, logger: Logger) async throws -> Result {
        let target = sourceSchema + (part == .all ? "_bound" : "_bound_\(part.rawValue)")
        try await reader.execute("CREATE INDEX IF NOT EXISTS feature_log_logged_at ON \(sourceSchema).feature_log (logged_at)")
        let batches = try await reader.query("SELECT logged_at, count(*)::int8 FROM \(sourceSchema).feature_log GROUP BY 1 ORDER BY 1")
            .map { (try $0.decode(PostgresTimestamp.self, column: 0), Int(try $0.decode(Int64.self, column: 1))) }
        let partitions = try await reader.query("SELECT DISTINCT source_topic, source_partition FROM \(sourceSchema).feature_log")
            .map { (topic: try $0.decode(String.self, column: 0), partition: try $0.decode(Int32.self, column: 1)) }

        try await writer.execute("DROP SCHEMA IF EXISTS \(target) CASCADE")
        try await FeatureStoreMigrations.migrate(writer, schema: target)
        let store = try FeatureStore(connection: writer, reader: reader, schema: target, group: group, logger: logger)
        if !synchronousCommit { try await store.setAsynchronousCommit() }
        let epochs = Dictionary(try await store.claim(partitions, owner: "sluice-bench-bound").map { ("\($0.topic)/\($0.partition)", $0.epoch) },
                                uniquingKeysWith: { first, _ in first })
        let backend = try await PostgresProcessCPU.backendPID(writer)
        let cpuBefore = Measure.cpuSeconds(pid: backend)

        var rows = 0
        var nanos: UInt64 = 0
        var next = 0
        while next < batches.count {
            // Read about 20,000 rows' worth of micro-batches, then commit them one by one.
            var end = next
            var chunkRows = 0
            while end < batches.count, chunkRows < 20_000 || end == next {
                chunkRows += batches[end].1
                end += 1
            }
            let chunk = try await readBatches(from: sourceSchema, loggedAt: batches[next].0, through: batches[end - 1].0, reader: reader, epochs: epochs)
            for var batch in chunk {
                // Rates are per event of the run, whatever part is replayed.
                rows += batch.logRows.count
                switch part {
                case .all: break
                case .featureLog: batch.entities = []
                case .entities: batch.logRows = []
                }
                // As the worker does: the COPY data is encoded before the transaction, outside the timed commit (the
                // upsert's parameters are encoded by `commit`, inside the timing, as the worker's are).
                try batch.encodeLogRows()
                let started = Measure.now()
                try await store.commit(batch, featureSet: featureSet)
                nanos += Measure.now() - started
            }
            next = end
        }
        var cpu: Double? = nil
        if let cpuBefore, let cpuAfter = Measure.cpuSeconds(pid: backend) { cpu = (cpuAfter - cpuBefore) / Double(max(rows, 1)) * 1e6 }
        if !keep { try await writer.execute("DROP SCHEMA \(target) CASCADE") }
        let seconds = Double(nanos) / 1e9
        return Result(part: part, rows: rows, microBatches: batches.count, seconds: seconds, rowsPerSec: seconds > 0 ? Double(rows) / seconds : 0,
                      postgresCPUSecondsPerMillion: cpu)
    }

    /// The micro-batches committed between two `logged_at` times (inclusive), rebuilt as the worker wrote them.
    private static func readBatches(from schema: String, loggedAt first: PostgresTimestamp, through last: PostgresTimestamp,
                                    reader: PostgresConnection, epochs: [String: Int64]) async throws -> [FeatureStoreBatch] {
        let rows = try await reader.query("""
            SELECT logged_at, source_topic, source_partition, source_offset, entity, event_id, event_time, features::text, prediction_id,
                   model_name, model_version, score
            FROM \(schema).feature_log WHERE logged_at BETWEEN $1 AND $2
            ORDER BY logged_at, source_topic, source_partition, source_offset
            """, [first, last])
        var entityNames = Set<String>()
        var current: (loggedAt: PostgresTimestamp, batch: FeatureStoreBatch, entities: [String])? = nil
        var grouped: [(FeatureStoreBatch, [String])] = []
        for row in rows {
            let loggedAt = try row.decode(PostgresTimestamp.self, column: 0)
            if current?.loggedAt != loggedAt {
                if let current { grouped.append((current.batch, current.entities)) }
                current = (loggedAt, FeatureStoreBatch(), [])
            }
            let modelName = try row.decode(String?.self, column: 9)
            let logRow = FeatureStoreBatch.LogRow(
                topic: try row.decode(String.self, column: 1), partition: try row.decode(Int32.self, column: 2),
                offset: try row.decode(Int64.self, column: 3), entity: try row.decode(String.self, column: 4),
                eventID: try row.decode(String?.self, column: 5),
                eventTimeMillis: try row.decode(PostgresTimestamp.self, column: 6).microsecondsSinceUnixEpoch / 1_000,
                featuresJSON: ArraySlice(try row.decode(String.self, column: 7).utf8),
                prediction: try modelName.map { name in
                    FeatureStoreBatch.Prediction(modelName: name, modelVersion: try row.decode(Int32?.self, column: 10) ?? 0,
                                                 score: try row.decode(Double?.self, column: 11), scores: nil, explanationJSON: nil,
                                                 challengerVersion: nil, challengerScore: nil)
                })
            current!.batch.logRows.append(logRow)
            current!.entities.append(logRow.entity)
            entityNames.insert(logRow.entity)
        }
        if let current { grouped.append((current.batch, current.entities)) }

        let stored = try await reader.query("""
            SELECT entity, source_topic, source_partition, event_time, features::text, state FROM \(schema).entities WHERE entity = ANY($1::text[])
            """, [Array(entityNames)])
        var entities: [String: FeatureStoreBatch.EntityWrite] = [:]
        for row in stored {
            let write = FeatureStoreBatch.EntityWrite(
                entity: try row.decode(String.self, column: 0), topic: try row.decode(String.self, column: 1),
                partition: try row.decode(Int32.self, column: 2),
                eventTimeMillis: try row.decode(PostgresTimestamp.self, column: 3).microsecondsSinceUnixEpoch / 1_000,
                featuresJSON: ArraySlice(try row.decode(String.self, column: 4).utf8), state: try row.decode([UInt8].self, column: 5)[...])
            entities[write.entity] = write
        }
        var batches: [FeatureStoreBatch] = []
        for (var batch, names) in grouped {
            var seen = Set<String>()
            for name in names where seen.insert(name).inserted {
                if let write = entities[name] { batch.entities.append(write) }
            }
            var offsets: [String: FeatureStoreBatch.OffsetWrite] = [:]
            for row in batch.logRows {
                let key = "\(row.topic)/\(row.partition)"
                var write = offsets[key] ?? FeatureStoreBatch.OffsetWrite(topic: row.topic, partition: row.partition, nextOffset: 0,
                                                                          maxEventTimeMillis: nil, epoch: epochs[key] ?? 1)
                write.nextOffset = max(write.nextOffset, row.offset + 1)
                write.maxEventTimeMillis = max(write.maxEventTimeMillis ?? .min, row.eventTimeMillis)
                offsets[key] = write
            }
            batch.offsets = offsets.values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            batches.append(batch)
        }
        return batches
    }
}
