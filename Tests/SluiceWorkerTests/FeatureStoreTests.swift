import Foundation
import SluiceFeatureStore
import SluicePostgres
import Testing

@Suite("Feature store", .timeLimit(.minutes(3)))
struct FeatureStoreTests {
    /// A migrated schema of its own for one test.
    struct Scratch {
        let schema = "fs_\(UUID().uuidString.prefix(8).lowercased())"
        let connection: PostgresConnection
        let store: FeatureStore

        init() async throws {
            guard let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] else {
                throw FeatureStoreError(code: .invalidSchema, message: "SLUICE_TEST_POSTGRES_URL is not set: run the tests with scripts/test")
            }
            connection = try await PostgresConnection.connect(url: url, logger: WorkerEnvironment.logger)
            try await FeatureStoreMigrations.migrate(connection, schema: schema)
            store = try FeatureStore(connection: connection, schema: schema, group: "g", logger: WorkerEnvironment.logger)
        }

        func drop() async throws {
            try await connection.execute("DROP SCHEMA \(schema) CASCADE")
            await connection.close()
        }
    }

    static let day: Int64 = 86_400_000

    static func row(_ offset: Int64, entity: String, millis: Int64, json: String) -> FeatureStoreBatch.LogRow {
        FeatureStoreBatch.LogRow(topic: "t", partition: 0, offset: offset, entity: entity, eventID: nil, eventTimeMillis: millis,
                                 featuresJSON: ArraySlice(json.utf8))
    }

    /// Migration 6 on a store that already holds data: ids become byte-wise ("C") without losing a row, and the
    /// predictions view (which depends on the columns) still answers.
    @Test func upgradingToByteWiseIdsKeepsTheRowsAndThePredictionsView() async throws {
        guard let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] else {
            Issue.record("SLUICE_TEST_POSTGRES_URL is not set: run the tests with scripts/test")
            return
        }
        let schema = "fs_\(UUID().uuidString.prefix(8).lowercased())"
        let connection = try await PostgresConnection.connect(url: url, logger: WorkerEnvironment.logger)
        defer { Task { try? await connection.execute("DROP SCHEMA \(schema) CASCADE"); await connection.close() } }
        // The schema as version 5 left it, with a scored row and an entity.
        try await connection.execute("CREATE SCHEMA \(schema)")
        try await connection.execute("CREATE TABLE \(schema).schema_migrations (version int PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for migration in FeatureStoreMigrations.all where migration.version <= 5 {
            for statement in migration.statements(schema) { try await connection.execute(statement) }
            try await connection.execute("INSERT INTO \(schema).schema_migrations (version, description) VALUES ($1, $2)", [Int32(migration.version), migration.description])
        }
        try await connection.execute("""
            INSERT INTO \(schema).feature_log (source_topic, source_partition, source_offset, entity, event_id, event_time, features, prediction_id, model_name, model_version, score)
            VALUES ('t', 0, 7, 'user é;--', 'ev-1', now(), '{"a":1}', 't/0/7', 'm', 1, 0.25)
            """)
        try await connection.execute("INSERT INTO \(schema).entities (entity, source_topic, source_partition, event_time, features, state, feature_set) VALUES ('user é;--', 't', 0, now(), '{}', '\\x00', 'fs')")

        #expect(try await FeatureStoreMigrations.migrate(connection, schema: schema) == [6, 7])
        let collations = try await connection.query("""
            SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns
            WHERE table_schema = $1 AND column_name IN ('entity', 'event_id') AND table_name IN ('feature_log', 'entities') ORDER BY 1
            """, [schema]).map { "\(try $0.decode(String.self, column: 0))=\(try $0.decode(String?.self, column: 1) ?? "default")" }
        #expect(collations == ["entities.entity=C", "feature_log.entity=C", "feature_log.event_id=C"])
        let viewed = try await connection.query("SELECT entity, score FROM \(schema).predictions WHERE event_id = $1", ["ev-1"])
        #expect(viewed.count == 1)
        #expect(try viewed.first?.decode(String.self, column: 0) == "user é;--")
        #expect(try viewed.first?.decode(Double.self, column: 1) == 0.25)
        let entities = try await connection.query("SELECT count(*)::int8 FROM \(schema).entities WHERE entity = $1", ["user é;--"])
        #expect(try entities.first?.decode(Int64.self, column: 0) == 1)
    }

    @Test func civilDatesMatchTheGregorianCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for day: Int64 in [-100_000, -1, 0, 59, 365, 10_957, 11_016, 20_415, 2_932_896] {
            let date = Date(timeIntervalSince1970: Double(day) * 86_400)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let expected = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
            #expect(FeatureStore.civilDate(day: day) == expected, "day \(day)")
        }
    }

    /// Log rows encoded ahead of the transaction are the rows committed: merged batches keep both parts in order, and
    /// rows removed or changed after encoding are written as they are at commit (the stale encoding is not used).
    @Test func logRowsEncodedAheadAreWrittenAsTheyAreAtCommit() async throws {
        let scratch = try await Scratch()
        let base: Int64 = 20_100 * Self.day
        var first = FeatureStoreBatch()
        first.logRows = [Self.row(0, entity: "a", millis: base, json: #"{"x":1}"#), Self.row(1, entity: "b", millis: base + 1, json: #"{"x":2}"#)]
        try first.encodeLogRows()
        #expect(first.encodedLogRows.map(\.count) == [2])
        var second = FeatureStoreBatch()
        second.logRows = [Self.row(2, entity: "a", millis: base + 2, json: #"{"x":3}"#)]
        try second.encodeLogRows()
        first.append(second)
        #expect(first.encodedLogRows.map(\.count) == [2, 1], "merged batches keep their encoded parts")
        try await scratch.store.commit(first, featureSet: "f")

        var changed = FeatureStoreBatch()
        changed.logRows = [Self.row(3, entity: "c", millis: base + 3, json: #"{"x":4}"#), Self.row(4, entity: "d", millis: base + 4, json: "{}")]
        try changed.encodeLogRows()
        changed.logRows.removeLast()
        try await scratch.store.commit(changed, featureSet: "f")
        changed.logRows[0].offset = 5
        changed.logRows[0].featuresJSON = ArraySlice(#"{"x":5}"#.utf8)
        changed.discardEncodedLogRows()
        try await scratch.store.commit(changed, featureSet: "f")

        let rows = try await scratch.connection.query("SELECT source_offset, entity, features::text FROM \(scratch.schema).feature_log ORDER BY source_offset")
        #expect(try rows.map { "\(try $0.decode(Int64.self, column: 0)) \(try $0.decode(String.self, column: 1)) \(try $0.decode(String.self, column: 2))" }
                == [#"0 a {"x":1}"#, #"1 b {"x":2}"#, #"2 a {"x":3}"#, #"3 c {"x":4}"#, #"5 c {"x":5}"#])
        try await scratch.drop()
    }

    /// The feature log's `prediction_id` is written from each row's topic, partition and offset (no string kept per
    /// row) and equals `<topic>/<partition>/<offset>` at every digit count; features and states that are slices of
    /// one shared buffer (the pipeline's per-batch buffers) are written as their slices, not their buffers.
    @Test func predictionIdsAndSlicedFeaturesAreWrittenExactly() async throws {
        let scratch = try await Scratch()
        let base: Int64 = 20_100 * Self.day
        let shared = Array(#"[{"x":1}{"y":22}{}]"#.utf8)
        let offsets: [Int64] = [0, 9, 10, 99, 100, 123_456_789_012, Int64.max - 1]
        var batch = FeatureStoreBatch()
        for (index, offset) in offsets.enumerated() {
            var row = Self.row(offset, entity: "e\(index)", millis: base + Int64(index), json: "")
            row.topic = "topic.with-dots_\(index % 2)"
            row.partition = Int32([0, 7, 10, 2_147_483_647][index % 4])
            row.featuresJSON = [shared[1..<8], shared[8..<16], shared[16..<18]][index % 3]
            batch.logRows.append(row)
        }
        batch.entities = [FeatureStoreBatch.EntityWrite(entity: "e0", topic: "t", partition: 0, eventTimeMillis: base,
                                                        featuresJSON: shared[8..<16], state: [9, 8, 7, 6, 5][1..<4])]
        try batch.encodeLogRows()
        try await scratch.store.commit(batch, featureSet: "f")

        let rows = try await scratch.connection.query("SELECT prediction_id, features::text FROM \(scratch.schema).feature_log ORDER BY event_time")
        let stored = try rows.map { "\(try $0.decode(String.self, column: 0)) \(try $0.decode(String.self, column: 1))" }
        #expect(stored == batch.logRows.map { "\($0.topic)/\($0.partition)/\($0.offset) \(String(decoding: $0.featuresJSON, as: UTF8.self))" })
        #expect(batch.logRows.map(\.predictionID) == batch.logRows.map { "\($0.topic)/\($0.partition)/\($0.offset)" })
        #expect(stored.first == #"topic.with-dots_0/0/0 {"x":1}"#)
        let entity = try #require(try await scratch.connection.query("SELECT features::text, state FROM \(scratch.schema).entities").first)
        #expect(try entity.decode(String.self, column: 0) == #"{"y":22}"#)
        #expect(try entity.decode([UInt8].self, column: 1) == [8, 7, 6])
        try await scratch.drop()
    }

    /// Many micro-batches merged at once (one transaction of a paced commit) equal the same batches merged one by
    /// one by the rule: log rows in order, the last write of each entity and each partition, entities and offsets
    /// where they first appeared, offsets sorted.
    @Test func mergingManyBatchesKeepsEachEntitysAndPartitionsLastWrite() throws {
        var generator = SystemRandomNumberGenerator()
        var batches: [FeatureStoreBatch] = []
        var offset: Int64 = 0
        for index in 0..<40 {
            var batch = FeatureStoreBatch()
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                let entity = "e\(Int.random(in: 0..<30, using: &generator))"
                batch.logRows.append(Self.row(offset, entity: entity, millis: offset, json: "{}"))
                offset += 1
                if !batch.entities.contains(where: { $0.entity == entity }) {
                    batch.entities.append(.init(entity: entity, topic: "t", partition: 0, eventTimeMillis: offset, featuresJSON: [],
                                                state: [UInt8(index)]))
                }
            }
            for partition in Set((0..<3).map { _ in Int32.random(in: 0..<5, using: &generator) }) {
                batch.offsets.append(.init(topic: partition % 2 == 0 ? "a" : "b", partition: partition, nextOffset: Int64(index),
                                           maxEventTimeMillis: nil, epoch: 1))
            }
            batches.append(batch)
        }
        var merged = batches[0]
        merged.append(contentsOf: Array(batches.dropFirst()))

        var order: [String] = []
        var last: [String: UInt8] = [:]
        var offsets: [String: Int64] = [:]
        for batch in batches {
            for write in batch.entities {
                if last[write.entity] == nil { order.append(write.entity) }
                last[write.entity] = write.state[0]
            }
            for write in batch.offsets { offsets["\(write.topic)/\(write.partition)"] = write.nextOffset }
        }
        #expect(merged.logRows.map(\.offset) == Array(0..<offset))
        #expect(merged.entities.map(\.entity) == order)
        #expect(merged.entities.map { $0.state[0] } == order.map { last[$0]! })
        #expect(merged.offsets.map { "\($0.topic)/\($0.partition)=\($0.nextOffset)" } == offsets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
    }

    /// The entity upsert's parameters, written straight from the entities' bytes, store what the writes hold:
    /// non-ASCII features, empty and binary states, merged batches (the later write wins), another feature set.
    /// Migration 7: an entity row large enough to be compressed is compressed with lz4 when the server has it (pglz
    /// otherwise), and reads back byte for byte.
    @Test func largeEntityStatesAreCompressedWithLZ4AndReadBackExactly() async throws {
        let scratch = try await Scratch()
        let lz4 = try await scratch.connection.query(
            "SELECT 'lz4' = ANY (enumvals) FROM pg_settings WHERE name = 'default_toast_compression'").first?.decode(Bool.self, column: 0) ?? false
        // 6 KB of tile-like words: repetitive enough to compress, past the 2 KB at which PostgreSQL tries.
        let state = (0..<6_000).map { UInt8(truncatingIfNeeded: ($0 / 8) % 40 == 0 ? $0 : $0 % 16) }
        var batch = FeatureStoreBatch()
        batch.entities = [.init(entity: "hot", topic: "t", partition: 0, eventTimeMillis: 1_000, featuresJSON: ArraySlice(#"{"x":1}"#.utf8), state: state[...])]
        try await scratch.store.commit(batch, featureSet: "f")
        let row = try await scratch.connection.query(
            "SELECT state, pg_column_compression(state), pg_column_size(state) FROM \(scratch.schema).entities WHERE entity = 'hot'").first
        #expect(try row?.decode([UInt8].self, column: 0) == state)
        #expect(try row?.decode(String?.self, column: 1) == (lz4 ? "lz4" : "pglz"))
        #expect(try (row?.decode(Int32.self, column: 2) ?? .max) < 6_000, "stored compressed")
        try await scratch.drop()
    }

    @Test func entityUpsertsWrittenFromBytesStoreWhatTheWritesHold() async throws {
        let scratch = try await Scratch()
        func write(_ entity: String, _ millis: Int64, _ json: String, _ state: [UInt8]) -> FeatureStoreBatch.EntityWrite {
            .init(entity: entity, topic: "t", partition: 1, eventTimeMillis: millis, featuresJSON: ArraySlice(json.utf8), state: state[...])
        }
        var first = FeatureStoreBatch()
        first.entities = [write("a", 1_000, #"{"x":1,"s":"é"}"#, [1]), write("b", 1_000, #"{"x":2}"#, [2, 0, 255])]
        try await scratch.store.commit(first, featureSet: "f")

        var merged = FeatureStoreBatch()
        merged.entities = [write("b", 3_000, #"{"x":5}"#, [5])]
        var later = FeatureStoreBatch()
        later.entities = [write("b", 4_000, #"{"x":6}"#, [6]), write("d", 4_000, "{}", [])]
        merged.append(later)
        try await scratch.store.commit(merged, featureSet: "f")

        var other = FeatureStoreBatch()
        other.entities = [write("d", 5_000, #"{"x":7}"#, [8])]
        try await scratch.store.commit(other, featureSet: "g")

        let rows = try await scratch.connection.query(
            "SELECT entity, features::text, state, feature_set, (extract(epoch FROM event_time) * 1000)::int8 FROM \(scratch.schema).entities ORDER BY entity")
        let found = try rows.map { row in
            "\(try row.decode(String.self, column: 0)) \(try row.decode(String.self, column: 1)) \(try row.decode([UInt8].self, column: 2)) \(try row.decode(String.self, column: 3)) \(try row.decode(Int64.self, column: 4))"
        }
        #expect(found == [#"a {"x":1,"s":"é"} [1] f 1000"#, #"b {"x":6} [6] f 4000"#, "d {\"x\":7} [8] g 5000"])
        try await scratch.drop()
    }

    @Test func logRowsLandInDayPartitionsAndOldDaysCanBeDropped() async throws {
        let scratch = try await Scratch()
        let base: Int64 = 20_000 * Self.day
        var batch = FeatureStoreBatch()
        batch.logRows = [Self.row(0, entity: "a", millis: base + 5, json: "{}"), Self.row(1, entity: "a", millis: base + Self.day + 5, json: "{}"),
                         Self.row(2, entity: "b", millis: base + 2 * Self.day + 5, json: "{}")]
        try await scratch.store.commit(batch, featureSet: "f")
        let inDefault = try await scratch.connection.query("SELECT count(*) FROM \(scratch.schema).feature_log_default").first!.decode(Int64.self, column: 0)
        #expect(inDefault == 0)
        let partitions = try await scratch.connection.query("""
            SELECT c.relname, (SELECT count(*) FROM pg_inherits) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> 'feature_log_default' ORDER BY 1
            """, [scratch.schema]).map { try $0.decode(String.self, column: 0) }
        #expect(partitions == ["feature_log_d20000", "feature_log_d20001", "feature_log_d20002"])
        let dropped = try await scratch.store.dropLogPartitions(before: base + 2 * Self.day)
        #expect(dropped == ["feature_log_d20000", "feature_log_d20001"])
        let left = try await scratch.connection.query("SELECT count(*) FROM \(scratch.schema).feature_log").first!.decode(Int64.self, column: 0)
        #expect(left == 1)
        try await scratch.drop()
    }

    @Test func anOlderEventNeverOverwritesNewerOnlineFeaturesButStateAlwaysMoves() async throws {
        let scratch = try await Scratch()
        var newer = FeatureStoreBatch()
        newer.entities = [.init(entity: "e'; DROP TABLE x; --", topic: "t", partition: 0, eventTimeMillis: 2_000, featuresJSON: ArraySlice(#"{"v":2}"#.utf8), state: [2])]
        try await scratch.store.commit(newer, featureSet: "f")
        var older = FeatureStoreBatch()
        older.entities = [.init(entity: "e'; DROP TABLE x; --", topic: "t", partition: 0, eventTimeMillis: 1_000, featuresJSON: ArraySlice(#"{"v":1}"#.utf8), state: [1])]
        try await scratch.store.commit(older, featureSet: "f")
        let online = try #require(try await scratch.store.online(entity: "e'; DROP TABLE x; --"))
        #expect(online.eventTimeMillis == 2_000)
        #expect(online.featuresJSON == #"{"v":2}"#)
        let states = try await scratch.store.loadStates(["e'; DROP TABLE x; --"])
        #expect(states.map(\.state) == [[1]])
        try await scratch.drop()
    }

    @Test func aWorkerWhosePartitionWasClaimedByAnotherIsFenced() async throws {
        let scratch = try await Scratch()
        let first = try await scratch.store.claim([("t", 0)], owner: "first")
        let second = try await scratch.store.claim([("t", 0)], owner: "second")
        #expect(second[0].epoch == first[0].epoch + 1)
        var stale = FeatureStoreBatch()
        stale.offsets = [.init(topic: "t", partition: 0, nextOffset: 10, maxEventTimeMillis: 5, epoch: first[0].epoch)]
        stale.logRows = [Self.row(9, entity: "z", millis: 5, json: "{}")]
        let error = await #expect(throws: FeatureStoreError.self) { try await scratch.store.commit(stale, featureSet: "f") }
        #expect(error?.code == .fenced)
        let logged = try await scratch.connection.query("SELECT count(*) FROM \(scratch.schema).feature_log").first!.decode(Int64.self, column: 0)
        #expect(logged == 0, "a fenced micro-batch writes nothing")

        var current = stale
        current.offsets[0].epoch = second[0].epoch
        try await scratch.store.commit(current, featureSet: "f")
        let resumed = try await scratch.store.claim([("t", 0)], owner: "third")
        #expect(resumed[0].nextOffset == 10 && resumed[0].maxEventTimeMillis == 5)
        try await scratch.drop()
    }

    /// A commit whose answer was lost must not be written twice: the retry asks whether it had committed.
    @Test func aCommittedBatchIsRecognisedAndAnUncommittedOneIsNot() async throws {
        let scratch = try await Scratch()
        let claim = try await scratch.store.claim([("t", 0), ("t", 1)], owner: "w")
        var batch = FeatureStoreBatch()
        batch.offsets = [.init(topic: "t", partition: 0, nextOffset: 10, maxEventTimeMillis: 5, epoch: claim[0].epoch),
                         .init(topic: "t", partition: 1, nextOffset: 3, maxEventTimeMillis: 5, epoch: claim[1].epoch)]
        batch.logRows = [Self.row(9, entity: "z", millis: 5, json: "{}")]
        #expect(try await scratch.store.isCommitted(batch) == false, "not yet committed")
        try await scratch.store.commit(batch, featureSet: "f")
        #expect(try await scratch.store.isCommitted(batch) == true)

        var next = batch
        next.offsets[1].nextOffset = 4
        #expect(try await scratch.store.isCommitted(next) == false, "one partition not there yet is not committed")
        _ = try await scratch.store.claim([("t", 0)], owner: "other")
        #expect(try await scratch.store.isCommitted(batch) == false, "under another epoch it is not this batch's commit")
        try await scratch.drop()
    }

    @Test func pointInTimeReadsReturnTheFeaturesAsOfThatTime() async throws {
        let scratch = try await Scratch()
        var batch = FeatureStoreBatch()
        batch.logRows = [Self.row(0, entity: "u", millis: 1_000, json: #"{"n":1}"#), Self.row(1, entity: "u", millis: 3_000, json: #"{"n":2}"#),
                         Self.row(2, entity: "w", millis: 2_000, json: #"{"n":9}"#)]
        try await scratch.store.commit(batch, featureSet: "f")
        #expect(try await scratch.store.features(entity: "u", asOfMillis: 999) == nil)
        #expect(try await scratch.store.features(entity: "u", asOfMillis: 2_999)?.featuresJSON == #"{"n":1}"#)
        #expect(try await scratch.store.features(entity: "u", asOfMillis: 3_000)?.featuresJSON == #"{"n":2}"#)
        try await scratch.drop()
    }
}
