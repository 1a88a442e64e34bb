import Logging
import SluicePostgres
import Synchronization

/// Where a partition's consumption resumes, and the ownership epoch this worker holds for it.
package struct PartitionClaim: Sendable, Hashable {
    package var topic: String
    package var partition: Int32
    /// The next offset to read; nil when nothing was committed yet.
    package var nextOffset: Int64?
    /// The largest event time seen in the partition (the lateness watermark's base); nil when none.
    package var maxEventTimeMillis: Int64?
    /// Bumped on every claim; writes carrying an older epoch are refused (fencing of zombie workers).
    package var epoch: Int64
}

/// An entity's stored state as restored after a restart or a rebalance.
package struct StoredEntity: Sendable {
    package var entity: String
    package var topic: String
    package var partition: Int32
    package var eventTimeMillis: Int64
    package var state: [UInt8]
    package var featureSet: String
}

/// Everything one micro-batch writes, committed in one transaction.
package struct FeatureStoreBatch: Sendable {
    package struct EntityWrite: Sendable {
        package var entity: String
        package var topic: String
        package var partition: Int32
        /// The entity's latest event time; the online features are its values as of then.
        package var eventTimeMillis: Int64
        /// The features as a JSON object. Like `state`, a slice: the writes of one micro-batch share one buffer.
        package var featuresJSON: ArraySlice<UInt8>
        package var state: ArraySlice<UInt8>

        package init(entity: String, topic: String, partition: Int32, eventTimeMillis: Int64, featuresJSON: ArraySlice<UInt8>, state: ArraySlice<UInt8>) {
            self.entity = entity
            self.topic = topic
            self.partition = partition
            self.eventTimeMillis = eventTimeMillis
            self.featuresJSON = featuresJSON
            self.state = state
        }
    }

    package struct LogRow: Sendable {
        package var topic: String
        package var partition: Int32
        package var offset: Int64
        package var entity: String
        package var eventID: String?
        package var eventTimeMillis: Int64
        /// The event's features as a JSON object; a slice, so the rows of one micro-batch share one buffer.
        package var featuresJSON: ArraySlice<UInt8>
        /// The prediction made for this event, when a model scored it.
        package var prediction: Prediction?

        package init(topic: String, partition: Int32, offset: Int64, entity: String, eventID: String?, eventTimeMillis: Int64, featuresJSON: ArraySlice<UInt8>,
                     prediction: Prediction? = nil) {
            self.prediction = prediction
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.entity = entity
            self.eventID = eventID
            self.eventTimeMillis = eventTimeMillis
            self.featuresJSON = featuresJSON
        }

        /// `<topic>/<partition>/<offset>` (DESIGN.md): derived from the event's position, so a replay gives its
        /// prediction the same id.
        package var predictionID: String { "\(topic)/\(partition)/\(offset)" }

        /// Calls `body` with the id's bytes after the topic, `/<partition>/<offset>`, written on the stack: the id is
        /// written out without making a `String` per row.
        package func withPredictionIDSuffix<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            // "/" + at most 11 characters of an Int32 + "/" + at most 20 of an Int64.
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
                var end = buffer.count
                func prepend(_ value: Int64) {
                    var magnitude = value.magnitude
                    repeat {
                        end -= 1
                        buffer[end] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                        magnitude /= 10
                    } while magnitude > 0
                    if value < 0 { end -= 1; buffer[end] = UInt8(ascii: "-") }
                    end -= 1
                    buffer[end] = UInt8(ascii: "/")
                }
                prepend(offset)
                prepend(Int64(partition))
                return try body(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[end...])))
            }
        }
    }

    /// The model output stored with a log row (the predictions log is a view of the feature log).
    package struct Prediction: Sendable {
        package var modelName: String
        package var modelVersion: Int32
        /// The score of binary and regression models; nil for multiclass models.
        package var score: Double?
        /// The class probabilities of multiclass models.
        package var scores: [Double]?
        /// `[{"feature":…,"contribution":…}]` when explanations are on.
        package var explanationJSON: [UInt8]?
        package var challengerVersion: Int32?
        package var challengerScore: Double?

        package init(modelName: String, modelVersion: Int32, score: Double?, scores: [Double]?, explanationJSON: [UInt8]?, challengerVersion: Int32?, challengerScore: Double?) {
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.score = score
            self.scores = scores
            self.explanationJSON = explanationJSON
            self.challengerVersion = challengerVersion
            self.challengerScore = challengerScore
        }
    }

    package struct OffsetWrite: Sendable {
        package var topic: String
        package var partition: Int32
        package var nextOffset: Int64
        package var maxEventTimeMillis: Int64?
        package var epoch: Int64

        package init(topic: String, partition: Int32, nextOffset: Int64, maxEventTimeMillis: Int64?, epoch: Int64) {
            self.topic = topic
            self.partition = partition
            self.nextOffset = nextOffset
            self.maxEventTimeMillis = maxEventTimeMillis
            self.epoch = epoch
        }
    }

    /// One drift-monitor evaluation (`drift_reports`).
    package struct DriftReportWrite: Sendable {
        package var modelName: String
        package var modelVersion: Int32
        package var windowStartMillis: Int64?
        package var windowEndMillis: Int64?
        package var windowEvents: Int64
        package var referenceSource: String
        package var referenceEvents: Int64
        package var driftedFeatures: Int32
        package var totalFeatures: Int32
        package var datasetDrift: Bool
        package var resultsJSON: [UInt8]

        package init(modelName: String, modelVersion: Int32, windowStartMillis: Int64?, windowEndMillis: Int64?, windowEvents: Int64,
                     referenceSource: String, referenceEvents: Int64, driftedFeatures: Int32, totalFeatures: Int32, datasetDrift: Bool, resultsJSON: [UInt8]) {
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.windowStartMillis = windowStartMillis
            self.windowEndMillis = windowEndMillis
            self.windowEvents = windowEvents
            self.referenceSource = referenceSource
            self.referenceEvents = referenceEvents
            self.driftedFeatures = driftedFeatures
            self.totalFeatures = totalFeatures
            self.datasetDrift = datasetDrift
            self.resultsJSON = resultsJSON
        }
    }

    /// A drift alert's latest state (`drift_alerts`, one row per alert id).
    package struct DriftAlertWrite: Sendable {
        package var alertID: String
        package var kind: String
        package var state: String
        package var severity: String
        package var modelName: String
        package var modelVersion: Int32
        package var feature: String?
        package var test: String
        package var statistic: Double
        package var threshold: Double
        package var pValue: Double?
        package var windowStartMillis: Int64?
        package var windowEndMillis: Int64?
        package var windowEvents: Int64
        package var messageJSON: [UInt8]

        package init(alertID: String, kind: String, state: String, severity: String, modelName: String, modelVersion: Int32, feature: String?,
                     test: String, statistic: Double, threshold: Double, pValue: Double?, windowStartMillis: Int64?, windowEndMillis: Int64?,
                     windowEvents: Int64, messageJSON: [UInt8]) {
            self.alertID = alertID
            self.kind = kind
            self.state = state
            self.severity = severity
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.feature = feature
            self.test = test
            self.statistic = statistic
            self.threshold = threshold
            self.pValue = pValue
            self.windowStartMillis = windowStartMillis
            self.windowEndMillis = windowEndMillis
            self.windowEvents = windowEvents
            self.messageJSON = messageJSON
        }
    }

    package var entities: [EntityWrite] = []
    /// Rows added or removed after `encodeLogRows()` make `commit` encode them afresh; a row changed in place after
    /// it needs `discardEncodedLogRows()`. (A `didSet` here would copy the whole array on every element change.)
    package var logRows: [LogRow] = []
    /// `logRows` in the feature log's binary COPY form, encoded ahead of the transaction by `encodeLogRows()`
    /// (one part per merged micro-batch), or empty.
    package private(set) var encodedLogRows: [PostgresBinaryCopyRows] = []
    package var offsets: [OffsetWrite] = []
    package var driftReports: [DriftReportWrite] = []
    package var driftAlerts: [DriftAlertWrite] = []

    package init() {}

    /// Encodes the log rows for the feature log's COPY now, so the transaction only sends them.
    package mutating func encodeLogRows() throws {
        encodedLogRows = [try Self.encode(logRows)]
    }

    /// `rows` in the feature log's binary COPY form (the columns of `commit`'s COPY).
    static func encode(_ rows: [LogRow]) throws -> PostgresBinaryCopyRows {
        // Through the buffer: each row is borrowed, not copied (five retains and releases per row).
        try rows.withUnsafeBufferPointer { rows in
            // Sized from the rows (an upper bound: 15 length words, the fixed-size fields and the variable ones), so
            // the buffer is allocated once and never doubles past what it needs.
            var bytes = 64
            for index in rows.indices { bytes += encodedSizeBound(rows[index]) }
            var encoder = PostgresBinaryCopyEncoder.detached(capacity: bytes)
            for index in rows.indices { try write(rows[index], to: &encoder) }
            return try encoder.encodedRows()
        }
    }

    private static func encodedSizeBound(_ row: LogRow) -> Int {
        var bytes = 2 + 15 * 4 + 4 + 8 + 8 + 4 + 8 + 8 + row.topic.utf8.count + row.entity.utf8.count
            + (row.eventID?.utf8.count ?? 0) + row.featuresJSON.count + row.topic.utf8.count + 32
        if let p = row.prediction {
            bytes += p.modelName.utf8.count + (p.explanationJSON?.count ?? 0) + 24 + (p.scores?.count ?? 0) * 12
        }
        return bytes
    }

    private static func write(_ row: LogRow, to encoder: inout PostgresBinaryCopyEncoder) throws {
        try encoder.beginRow(fieldCount: 15)
        try encoder.write(row.topic)
        encoder.write(row.partition)
        encoder.write(row.offset)
        try encoder.write(row.entity)
        try encoder.write(row.eventID)
        try encoder.write(PostgresTimestamp(millisecondsSinceUnixEpoch: row.eventTimeMillis))
        // json's binary form is its UTF-8 text.
        try row.featuresJSON.withUnsafeBytes { try encoder.write(bytes: $0) }
        try encoder.writeField { buffer in
            buffer.writeString(row.topic)
            row.withPredictionIDSuffix { buffer.writeBytes($0) }
        }
        if let p = row.prediction {
            try encoder.write(p.modelName)
            encoder.write(p.modelVersion)
            encoder.write(p.score)
            try encoder.write(p.scores)
            if let explanation = p.explanationJSON {
                try explanation.withUnsafeBytes { try encoder.write(bytes: $0) }
            } else {
                encoder.writeNull()
            }
            encoder.write(p.challengerVersion)
            encoder.write(p.challengerScore)
        } else {
            for _ in 0..<7 { encoder.writeNull() }
        }
    }

    /// Whether `encodedLogRows` holds the log rows (as many rows as `logRows`).
    var logRowsAreEncoded: Bool { !encodedLogRows.isEmpty && encodedLogRows.reduce(0) { $0 + $1.count } == logRows.count }

    package mutating func discardEncodedLogRows() { encodedLogRows = [] }

    /// `$1`…`$7` of the entity upsert: six arrays written straight from the entities' bytes into one buffer sized
    /// up front (no array of Swift values per column, no `String` made from each features JSON), then the feature set.
    static func upsertBindings(_ entities: [EntityWrite], featureSet: String) throws -> PostgresBindings {
        try entities.withUnsafeBufferPointer { entities in
            // 6 array headers of at most 20 bytes; per entity 6 length words, the int4 and the timestamp, and the bytes.
            var bytes = 6 * 20 + 4 + featureSet.utf8.count
            for index in entities.indices {
                bytes += 6 * 4 + 4 + 8 + entities[index].entity.utf8.count + entities[index].topic.utf8.count
                    + entities[index].featuresJSON.count + entities[index].state.count
            }
            var bindings = PostgresBindings(capacity: bytes)
            try bindings.appendArray(of: .text, as: .textArray, count: entities.count) { i, buffer in buffer.writeString(entities[i].entity) }
            try bindings.appendArray(of: .text, as: .textArray, count: entities.count) { i, buffer in buffer.writeString(entities[i].topic) }
            try bindings.appendArray(of: .int4, as: .int4Array, count: entities.count) { i, buffer in buffer.writeInteger(entities[i].partition) }
            try bindings.appendArray(of: .timestamptz, as: .timestamptzArray, count: entities.count) { i, buffer in
                try PostgresTimestamp(millisecondsSinceUnixEpoch: entities[i].eventTimeMillis).encode(into: &buffer)
            }
            // The features JSON is written by the pipeline from validated UTF-8, so its bytes are valid `text` as they are.
            try bindings.appendArray(of: .text, as: .textArray, count: entities.count) { i, buffer in entities[i].featuresJSON.withUnsafeBytes { buffer.writeBytes($0) } }
            try bindings.appendArray(of: .bytea, as: .byteaArray, count: entities.count) { i, buffer in entities[i].state.withUnsafeBytes { buffer.writeBytes($0) } }
            try bindings.append(featureSet)
            return bindings
        }
    }

    /// Adds a later micro-batch of the same worker, so both commit in one transaction (group commit): its log
    /// rows, reports and alerts follow this batch's; an entity or partition in both keeps the later write (its
    /// state and offset include the earlier batch's events).
    package mutating func append(_ later: FeatureStoreBatch) {
        append(contentsOf: [later])
    }

    /// Adds later micro-batches in order, as `append(_:)` one by one would, but indexes the entities and partitions
    /// once: a transaction that commits many small micro-batches (low rates, `flush.commit_interval`) would
    /// otherwise rebuild the index of every entity merged so far for each one.
    package mutating func append(contentsOf later: [FeatureStoreBatch]) {
        guard !later.isEmpty else { return }
        encodedLogRows = logRowsAreEncoded && later.allSatisfy(\.logRowsAreEncoded) ? encodedLogRows + later.flatMap(\.encodedLogRows) : []
        logRows.reserveCapacity(later.reduce(logRows.count) { $0 + $1.logRows.count })
        for batch in later {
            logRows += batch.logRows
            driftReports += batch.driftReports
            driftAlerts += batch.driftAlerts
        }
        var entityIndex: [String: Int] = [:]
        entityIndex.reserveCapacity(later.reduce(entities.count) { $0 + $1.entities.count })
        for (position, write) in entities.enumerated() { entityIndex[write.entity] = position }
        var offsetIndex: [PartitionKey: Int] = [:]
        for (position, write) in offsets.enumerated() { offsetIndex[PartitionKey(topic: write.topic, partition: write.partition)] = position }
        for batch in later {
            for write in batch.entities {
                if let existing = entityIndex[write.entity] {
                    entities[existing] = write
                } else {
                    entityIndex[write.entity] = entities.count
                    entities.append(write)
                }
            }
            for write in batch.offsets {
                let key = PartitionKey(topic: write.topic, partition: write.partition)
                if let existing = offsetIndex[key] {
                    offsets[existing] = write
                } else {
                    offsetIndex[key] = offsets.count
                    offsets.append(write)
                }
            }
        }
        offsets.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    private struct PartitionKey: Hashable {
        var topic: String
        var partition: Int32
    }
}

/// The PostgreSQL feature store: online features and entity state per entity, the feature log (offline store),
/// and consumer offsets with ownership epochs. `commit` writes a micro-batch's features, state, log rows and
/// next offsets in one transaction, so the store always reflects a prefix of every partition.
package final class FeatureStore: Sendable {
    package let schema: String
    package let group: String
    private let s: String
    private let connection: PostgresConnection
    /// Reads (state restore, online and point-in-time reads) use their own connection so they never queue
    /// behind a micro-batch transaction.
    private let reader: PostgresConnection
    private let logger: Logger
    /// Days (since the Unix epoch) whose feature-log partition exists.
    private let partitionDays = Mutex<Set<Int64>>([])

    /// - Parameters:
    ///   - connection: the connection this store writes with (one writer per worker).
    ///   - reader: the connection for reads; the writer when nil.
    ///   - schema: the PostgreSQL schema holding the tables (a plain identifier).
    ///   - group: the consumer group whose offsets this store keeps.
    package init(connection: PostgresConnection, reader: PostgresConnection? = nil, schema: String, group: String, logger: Logger) throws(FeatureStoreError) {
        self.connection = connection
        self.reader = reader ?? connection
        self.schema = schema
        self.s = try Self.quotedIdentifier(schema)
        self.group = group
        self.logger = logger
    }

    /// `schema` as a quoted SQL identifier; only `[a-z_][a-z0-9_]*` is accepted, so no quoting tricks are possible.
    package static func quotedIdentifier(_ schema: String) throws(FeatureStoreError) -> String {
        let bytes = Array(schema.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 63 && bytes.enumerated().allSatisfy { index, byte in
            (byte >= 97 && byte <= 122) || byte == 95 || (index > 0 && byte >= 48 && byte <= 57)
        }
        guard valid else {
            throw FeatureStoreError(code: .invalidSchema, message: "schema name '\(schema)' is not a plain identifier: expected lower-case letters, digits and '_', starting with a letter or '_'")
        }
        return "\"\(schema)\""
    }

    /// Lets the writer session's commits return before the WAL is flushed (`synchronous_commit = off`).
    /// A PostgreSQL crash can then lose the latest commits — offsets with their features — never half of one.
    package func setAsynchronousCommit() async throws {
        try await connection.execute("SET synchronous_commit = off")
    }

    /// Takes ownership of `partitions` for this worker: bumps each partition's epoch and returns where to resume.
    package func claim(_ partitions: [(topic: String, partition: Int32)], owner: String) async throws -> [PartitionClaim] {
        if partitions.isEmpty { return [] }
        let rows = try await connection.query("""
            INSERT INTO \(s).consumer_offsets (consumer_group, topic, partition, owner, epoch)
            SELECT $1, t, p, $4, 1 FROM unnest($2::text[], $3::int4[]) AS u(t, p)
            ON CONFLICT (consumer_group, topic, partition)
            DO UPDATE SET epoch = consumer_offsets.epoch + 1, owner = excluded.owner, updated_at = now()
            RETURNING topic, partition, next_offset, max_event_time, epoch
            """, [group, partitions.map(\.topic), partitions.map(\.partition), owner])
        return try rows.map { row in
            PartitionClaim(topic: try row.decode(String.self, column: 0), partition: try row.decode(Int32.self, column: 1),
                           nextOffset: try row.decode(Int64?.self, column: 2),
                           maxEventTimeMillis: try row.decode(PostgresTimestamp?.self, column: 3).map { $0.microsecondsSinceUnixEpoch / 1_000 },
                           epoch: try row.decode(Int64.self, column: 4))
        }
    }

    /// Stores the next offsets of a consumer group's partitions inside the caller's transaction; throws `.fenced`
    /// (and the caller's transaction rolls back) when another worker has claimed one of them since.
    package static func storeOffsets(_ offsets: [FeatureStoreBatch.OffsetWrite], group: String, schema s: String, on connection: PostgresConnection) async throws {
        guard !offsets.isEmpty else { return }
        let updated = try await connection.execute("""
            UPDATE \(s).consumer_offsets AS o
            SET next_offset = u.next, max_event_time = COALESCE(u.max_time, o.max_event_time), updated_at = now()
            FROM unnest($2::text[], $3::int4[], $4::int8[], $5::timestamptz[], $6::int8[]) AS u(t, p, next, max_time, epoch)
            WHERE o.consumer_group = $1 AND o.topic = u.t AND o.partition = u.p AND o.epoch = u.epoch
            """, [group, offsets.map(\.topic), offsets.map(\.partition), offsets.map(\.nextOffset),
                  offsets.map { $0.maxEventTimeMillis.map { PostgresTimestamp(millisecondsSinceUnixEpoch: $0) } },
                  offsets.map(\.epoch)])
        if updated != offsets.count {
            throw FeatureStoreError(code: .fenced, message: "\(offsets.count - updated) of \(offsets.count) partitions of group \(group) were claimed by another worker; the writes were refused")
        }
    }

    /// Upserts drift alerts (each `alert_id` keeps its latest state) inside the caller's transaction.
    package static func storeAlerts(_ alerts: [FeatureStoreBatch.DriftAlertWrite], schema s: String, on connection: PostgresConnection) async throws {
        for alert in alerts {
            try await connection.execute("""
                INSERT INTO \(s).drift_alerts (alert_id, kind, state, severity, model_name, model_version, feature, test, statistic,
                    threshold, p_value, window_start, window_end, window_events, message)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::text::json)
                ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, statistic = excluded.statistic,
                    p_value = excluded.p_value, window_start = excluded.window_start, window_end = excluded.window_end,
                    window_events = excluded.window_events, message = excluded.message
                """, [alert.alertID, alert.kind, alert.state, alert.severity, alert.modelName, alert.modelVersion, alert.feature, alert.test,
                      alert.statistic, alert.threshold, alert.pValue, alert.windowStartMillis.map { PostgresTimestamp(millisecondsSinceUnixEpoch: $0) },
                      alert.windowEndMillis.map { PostgresTimestamp(millisecondsSinceUnixEpoch: $0) }, alert.windowEvents,
                      String(decoding: alert.messageJSON, as: UTF8.self)])
        }
    }

    /// Whether `batch`'s transaction committed: every partition's stored next offset is the batch's, under the
    /// batch's epoch. A commit whose connection failed after the server received COMMIT may have committed or not;
    /// retrying one that had would log its events twice. Next offsets only move forward under an epoch, and a
    /// batch always moves each of its partitions forward, so the batch's offsets being stored means it committed.
    package func isCommitted(_ batch: FeatureStoreBatch) async throws -> Bool {
        guard !batch.offsets.isEmpty else { return false }
        let offsets = batch.offsets
        let matching = try await connection.query("""
            SELECT count(*)::int8 FROM \(s).consumer_offsets o
            JOIN unnest($2::text[], $3::int4[], $4::int8[], $5::int8[]) AS u(t, p, next, epoch)
              ON o.topic = u.t AND o.partition = u.p AND o.epoch = u.epoch AND o.next_offset = u.next
            WHERE o.consumer_group = $1
            """, [group, offsets.map(\.topic), offsets.map(\.partition), offsets.map(\.nextOffset), offsets.map(\.epoch)], retryIdempotent: true)
        return try matching.first?.decode(Int64.self, column: 0) == Int64(offsets.count)
    }

    /// The stored states of `entities` (those that have one).
    package func loadStates(_ entities: [String]) async throws -> [StoredEntity] {
        try await loadStates(entities, owning: []).states
    }

    /// The stored states of `entities` (those that have one), read in the same statement (one snapshot) as the
    /// ownership epochs of `owning`; `fenced` lists the partitions another worker has claimed since (their epoch
    /// moved on). States read while every partition is still ours hold no other worker's later writes, because
    /// another worker writes only after its claim; a fenced partition's states may, so the caller must not use them.
    package func loadStates(_ entities: [String], owning: [(topic: String, partition: Int32, epoch: Int64)])
        async throws -> (states: [StoredEntity], fenced: [(topic: String, partition: Int32)]) {
        if entities.isEmpty { return ([], []) }
        let rows = try await reader.query("""
            WITH owned AS (
                SELECT u.t, u.p, o.epoch IS NOT DISTINCT FROM u.epoch AS ours
                FROM unnest($2::text[], $3::int4[], $4::int8[]) AS u(t, p, epoch)
                LEFT JOIN \(s).consumer_offsets o ON o.consumer_group = $5 AND o.topic = u.t AND o.partition = u.p
            )
            SELECT NULL::text, t, p, NULL::timestamptz, NULL::bytea, NULL::text FROM owned WHERE NOT ours
            UNION ALL
            SELECT entity, source_topic, source_partition, event_time, state, feature_set
            FROM \(s).entities WHERE entity = ANY($1::text[])
            """, [entities, owning.map(\.topic), owning.map(\.partition), owning.map(\.epoch), group], retryIdempotent: true)
        var states: [StoredEntity] = []
        var fenced: [(topic: String, partition: Int32)] = []
        for row in rows {
            guard let entity = try row.decode(String?.self, column: 0) else {
                fenced.append((try row.decode(String.self, column: 1), try row.decode(Int32.self, column: 2)))
                continue
            }
            states.append(StoredEntity(entity: entity, topic: try row.decode(String.self, column: 1),
                                       partition: try row.decode(Int32.self, column: 2),
                                       eventTimeMillis: try row.decode(PostgresTimestamp.self, column: 3).microsecondsSinceUnixEpoch / 1_000,
                                       state: try row.decode([UInt8].self, column: 4), featureSet: try row.decode(String.self, column: 5)))
        }
        return (states, fenced)
    }

    /// The keys of the entities whose state was last written from one of `partitions`, in pages of at most
    /// `pageSize` keys (in key order), so memory stays bounded however many the store holds. Read after a claim,
    /// it holds every entity a previous owner stored for those partitions: another worker writes only under its
    /// own, earlier epoch, and the claim waited for its transaction to end.
    /// - Returns: how many keys were read.
    @discardableResult
    package func storedEntityKeys(partitions: [(topic: String, partition: Int32)], pageSize: Int = 100_000,
                                  _ body: ([String]) throws -> Void) async throws -> Int {
        guard !partitions.isEmpty else { return 0 }
        var after = ""
        var first = true
        var total = 0
        while true {
            let rows = try await reader.query("""
                SELECT entity FROM \(s).entities
                WHERE ($5 OR entity > $1)
                  AND (source_topic, source_partition) IN (SELECT * FROM unnest($2::text[], $3::int4[]))
                ORDER BY entity LIMIT $4
                """, [after, partitions.map(\.topic), partitions.map(\.partition), Int64(pageSize), first], retryIdempotent: true)
            let keys = try rows.map { try $0.decode(String.self, column: 0) }
            total += keys.count
            try body(keys)
            guard keys.count == pageSize, let last = keys.last else { return total }
            after = last
            first = false
        }
    }

    /// Writes a micro-batch in one transaction: first the next offsets (refused with `.fenced` when another
    /// worker has claimed one of the partitions since), then entity rows, then the feature log.
    /// - Parameter beforeCommit: awaited after the last statement, before COMMIT; when it throws, the transaction
    ///   rolls back. The worker waits there for Kafka to acknowledge the batch's messages, so the server's work
    ///   overlaps the acknowledgements while a committed offset still implies delivered messages.
    package func commit(_ batch: FeatureStoreBatch, featureSet: String, beforeCommit: () async throws -> Void = {}) async throws {
        try await ensureLogPartitions(for: batch.logRows)
        // Rows not encoded ahead (or changed since) are encoded now, before the transaction opens.
        let logRows = batch.logRows.isEmpty ? [] : batch.logRowsAreEncoded ? batch.encodedLogRows : [try FeatureStoreBatch.encode(batch.logRows)]
        // So are the entity upsert's parameters, a copy of bytes. Encoded while the previous transaction ran instead
        // (which needed the waiting batches merged early), they raised peak RSS at 1,000,000 entities by 37 MiB for no
        // measurable gain (docs/performance.md, fifth round).
        let upsert = batch.entities.isEmpty ? nil : try FeatureStoreBatch.upsertBindings(batch.entities, featureSet: featureSet)
        let s = self.s
        let group = self.group
        try await connection.transaction { connection in
            // The offsets' row locks are held until COMMIT: a worker frozen mid-transaction (SIGSTOP, a stalled VM)
            // would block the new owner's claim for as long as it stays frozen. The server ends such a session after
            // 10 s idle in the transaction (the worker sends its statements back to back), releasing the locks; the
            // resumed worker's retry is then fenced.
            try await connection.execute("SET LOCAL idle_in_transaction_session_timeout = '10s'")
            try await Self.storeOffsets(batch.offsets, group: group, schema: s, on: connection)
            if let upsert {
                try await connection.execute("""
                    INSERT INTO \(s).entities AS e (entity, source_topic, source_partition, event_time, features, state, feature_set, updated_at)
                    SELECT en, t, p, et, f::json, st, $7, now()
                    FROM unnest($1::text[], $2::text[], $3::int4[], $4::timestamptz[], $5::text[], $6::bytea[]) AS u(en, t, p, et, f, st)
                    ON CONFLICT (entity) DO UPDATE SET
                        source_topic = excluded.source_topic, source_partition = excluded.source_partition,
                        state = excluded.state, feature_set = excluded.feature_set, updated_at = excluded.updated_at,
                        features = CASE WHEN excluded.event_time >= e.event_time THEN excluded.features ELSE e.features END,
                        event_time = GREATEST(e.event_time, excluded.event_time)
                    """, upsert)
            }
            for report in batch.driftReports {
                try await connection.execute("""
                    INSERT INTO \(s).drift_reports (model_name, model_version, window_start, window_end, window_events, reference_source,
                        reference_events, drifted_features, total_features, dataset_drift, results)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::json)
                    """, [report.modelName, report.modelVersion, report.windowStartMillis.map { PostgresTimestamp(millisecondsSinceUnixEpoch: $0) },
                          report.windowEndMillis.map { PostgresTimestamp(millisecondsSinceUnixEpoch: $0) }, report.windowEvents,
                          report.referenceSource, report.referenceEvents, report.driftedFeatures, report.totalFeatures, report.datasetDrift,
                          String(decoding: report.resultsJSON, as: UTF8.self)])
            }
            try await Self.storeAlerts(batch.driftAlerts, schema: s, on: connection)
            if !logRows.isEmpty {
                try await connection.copyInBinary("""
                    COPY \(s).feature_log (source_topic, source_partition, source_offset, entity, event_id, event_time, features, prediction_id,
                                           model_name, model_version, score, scores, explanation, challenger_version, challenger_score)
                    FROM STDIN (FORMAT binary)
                    """, encoded: logRows)
            }
            try await beforeCommit()
        }
    }

    /// Creates the day partitions of the feature log that `rows` need, outside the micro-batch's transaction
    /// (DDL locks the parent briefly, once a day). Rows of a day whose partition could not be created land in
    /// the default partition, so nothing is lost.
    private func ensureLogPartitions(for rows: [FeatureStoreBatch.LogRow]) async throws {
        let millisPerDay: Int64 = 86_400_000
        let known = partitionDays.withLock { $0 }
        var needed = Set<Int64>()
        for row in rows {
            let day = row.eventTimeMillis >= 0 ? row.eventTimeMillis / millisPerDay : (row.eventTimeMillis - millisPerDay + 1) / millisPerDay
            if !known.contains(day) { needed.insert(day) }
        }
        for day in needed.sorted() {
            let name = "feature_log_d\(day)"
            do {
                let exists = try await connection.query("SELECT to_regclass($1) IS NOT NULL", ["\(schema).\(name)"]).first?.decode(Bool.self, column: 0) ?? false
                if !exists {
                    // The bounds are timestamps we format ourselves from an integer day; no user text reaches DDL.
                    try await connection.execute("""
                        CREATE TABLE IF NOT EXISTS \(s).\(name) PARTITION OF \(s).feature_log
                        FOR VALUES FROM ('\(Self.civilDate(day: day)) 00:00:00+00') TO ('\(Self.civilDate(day: day + 1)) 00:00:00+00')
                        """)
                }
                _ = partitionDays.withLock { $0.insert(day) }
            } catch let error as PostgresError where error.code == .server {
                logger.warning("could not create a feature-log partition; its rows go to the default partition",
                               metadata: ["partition": "\(name)", "error": "\(error)"])
                _ = partitionDays.withLock { $0.insert(day) }
            }
        }
    }

    /// The proleptic Gregorian date `YYYY-MM-DD` of a day counted from 1970-01-01.
    package static func civilDate(day: Int64) -> String {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(abs(value))
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(dayOfMonth, 2))"
    }

    /// Drops the feature-log partitions of days that ended before `millis` (retention); returns their names.
    package func dropLogPartitions(before millis: Int64) async throws -> [String] {
        let rows = try await connection.query("""
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = $1 AND p.relname = 'feature_log' AND c.relkind = 'r' AND c.relname LIKE 'feature\\_log\\_d%'
            """, [schema])
        var dropped: [String] = []
        for row in rows {
            let name = try row.decode(String.self, column: 0)
            guard let day = Int64(name.dropFirst("feature_log_d".count)), (day + 1) * 86_400_000 <= millis else { continue }
            try await connection.execute("DROP TABLE \(s).\(name)")
            _ = partitionDays.withLock { $0.remove(day) }
            dropped.append(name)
        }
        return dropped.sorted()
    }

    /// The latest online features of an entity: its event time and the features as a JSON object.
    package func online(entity: String) async throws -> (eventTimeMillis: Int64, featuresJSON: String)? {
        let rows = try await reader.query("SELECT event_time, features::text FROM \(s).entities WHERE entity = $1", [entity], retryIdempotent: true)
        guard let row = rows.first else { return nil }
        return (try row.decode(PostgresTimestamp.self, column: 0).microsecondsSinceUnixEpoch / 1_000, try row.decode(String.self, column: 1))
    }

    /// The features of an entity as of a point in time, from the feature log: the last event at or before `millis`.
    package func features(entity: String, asOfMillis millis: Int64) async throws -> (eventTimeMillis: Int64, featuresJSON: String)? {
        let rows = try await reader.query("""
            SELECT event_time, features::text FROM \(s).feature_log
            WHERE entity = $1 AND event_time <= $2
            ORDER BY event_time DESC, source_offset DESC LIMIT 1
            """, [entity, PostgresTimestamp(millisecondsSinceUnixEpoch: millis)], retryIdempotent: true)
        guard let row = rows.first else { return nil }
        return (try row.decode(PostgresTimestamp.self, column: 0).microsecondsSinceUnixEpoch / 1_000, try row.decode(String.self, column: 1))
    }
}
