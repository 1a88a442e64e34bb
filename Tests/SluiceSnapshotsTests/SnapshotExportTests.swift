import Foundation
import SluicePostgres
import SluiceSnapshots
import Testing

@Suite("Snapshot export against PostgreSQL, read back with pyarrow",
       .enabled(if: SnapshotTestEnvironment.postgresEnabled, SnapshotTestEnvironment.postgresDisabledReason),
       .timeLimit(.minutes(5)))
struct SnapshotExportTests {
    /// Four rows covering every column's nulls, escapes, non-ASCII text, a tie in event time and a missing feature.
    static let rows: [LabelledRow] = [
        LabelledRow(predictionID: "events/0/1", eventID: "e1", entity: "user-1", eventTimeMillis: january1 + 1_000,
                    modelName: "fraud", modelVersion: 1, score: 0.25,
                    features: #"{"amount": 12.5, "country": "DE", "txn_count_1h": 3}"#, label: 1, labelTimeMillis: january1 + 5_000),
        LabelledRow(predictionID: "events/0/2", eventID: nil, entity: "user-2", eventTimeMillis: january1 + 2_001,
                    modelName: nil, modelVersion: nil, score: nil,
                    features: #"{"country":"a\"b\\c\u00e9, x","amount":null,"txn_count_1h":-0.5e-3}"#, label: 0),
        // Same event time as the next row: the prediction id orders them.
        LabelledRow(predictionID: "events/1/8", eventID: "e4", entity: "ü-3", eventTimeMillis: january1 + 3_000,
                    modelName: "fraud", modelVersion: 2, score: 0.125, features: #"{"is_new": false}"#, label: 1),
        LabelledRow(predictionID: "events/1/7", eventID: "e3", entity: "user-1", eventTimeMillis: january1 + 3_000,
                    modelName: "fraud", modelVersion: 2, score: 0.75, features: #"{ "amount" : 1e300 , "is_new" : true }"#, label: 0.5),
    ]

    static let expectedSchema: [PyarrowSnapshot.Field] = [
        .init(name: "prediction_id", type: "string", nullable: false),
        .init(name: "event_id", type: "string", nullable: true),
        .init(name: "entity_id", type: "string", nullable: false),
        .init(name: "event_time", type: "timestamp[ms, tz=UTC]", nullable: false),
        .init(name: "model_name", type: "string", nullable: true),
        .init(name: "model_version", type: "int64", nullable: true),
        .init(name: "score", type: "double", nullable: true),
        .init(name: "label", type: "double", nullable: false),
        .init(name: "label_time", type: "timestamp[ms, tz=UTC]", nullable: false),
        .init(name: "split", type: "string", nullable: false),
        .init(name: "amount", type: "double", nullable: true),
        .init(name: "country", type: "string", nullable: true),
        .init(name: "is_new", type: "bool", nullable: true),
        .init(name: "txn_count_1h", type: "double", nullable: true),
    ]

    @Test(.enabled(if: SnapshotTestEnvironment.python != nil, SnapshotTestEnvironment.pythonDisabledReason))
    func snapshotHoldsExactValuesTypesAndNullsInParquetCSVAndManifest() async throws {
        try await ScratchStore.with { store in
            try await store.insert(Self.rows)
            let created: Int64 = january1 + 86_400_000 + 4_321
            let snapshot = try await store.exporter(nowMillis: { created }).export(store.request(holdout: 0.5))

            // Layout: one published directory with exactly the three files; nothing staged or temporary left.
            #expect(SnapshotID.isValid(snapshot.snapshotID))
            #expect(snapshot.snapshotID.hasPrefix("snap-20260102T000004Z-"))
            #expect(store.directoryEntries() == [snapshot.snapshotID])
            #expect(snapshot.directory == store.directory + "/" + snapshot.snapshotID)
            #expect(try FileManager.default.contentsOfDirectory(atPath: snapshot.directory).sorted() == ["data.csv", "data.parquet", "manifest.json"])

            let read = try PyarrowSnapshot.read(snapshot.directory, rows: true)
            #expect(read.schema == Self.expectedSchema)
            #expect(read.num_rows == 4)
            #expect(read.row_groups == 1)
            #expect(read.metadata["sluice.snapshot_id"] == snapshot.snapshotID)
            #expect(read.split_mismatches == 0, "the split column follows the documented FNV-1a rule")
            #expect(read.entities_on_both_sides == 0)

            let split = HoldoutSplit(fraction: 0.5)
            func side(_ entity: String) -> PyarrowSnapshot.Cell { .s(split.isHoldout(entity: entity) ? "holdout" : "train") }
            let labelTime = PyarrowSnapshot.Cell.t(1_767_312_000_000)
            let expected: [[PyarrowSnapshot.Cell?]] = [
                [.s("events/0/1"), .s("e1"), .s("user-1"), .t(january1 + 1_000), .s("fraud"), .i(1), .d(0.25), .d(1), .t(january1 + 5_000),
                 side("user-1"), .d(12.5), .s("DE"), nil, .d(3)],
                [.s("events/0/2"), nil, .s("user-2"), .t(january1 + 2_001), nil, nil, nil, .d(0), labelTime,
                 side("user-2"), nil, .s("a\"b\\cé, x"), nil, .d(-0.0005)],
                [.s("events/1/7"), .s("e3"), .s("user-1"), .t(january1 + 3_000), .s("fraud"), .i(2), .d(0.75), .d(0.5), labelTime,
                 side("user-1"), .d(1e300), nil, .b(true), nil],
                [.s("events/1/8"), .s("e4"), .s("ü-3"), .t(january1 + 3_000), .s("fraud"), .i(2), .d(0.125), .d(1), labelTime,
                 side("ü-3"), nil, nil, .b(false), nil],
            ]
            let rows = try #require(read.rows)
            #expect(rows.count == expected.count)
            for (index, (row, want)) in zip(rows, expected).enumerated() {
                #expect(row == want, "row \(index)")
            }

            // CSV: header, RFC 4180 quoting, empty fields for NULL, RFC 3339 times; feature numbers as stored when they
            // have a fraction or exponent (`-0.5e-3`, `1e300`), formatted when written as integers (`3` → `3.0`).
            let csv = try String(contentsOfFile: snapshot.csvPath, encoding: .utf8)
            func s(_ entity: String) -> String { split.isHoldout(entity: entity) ? "holdout" : "train" }
            let lines = [
                "prediction_id,event_id,entity_id,event_time,model_name,model_version,score,label,label_time,split,amount,country,is_new,txn_count_1h",
                "events/0/1,e1,user-1,2026-01-01T00:00:01.000Z,fraud,1,0.25,1.0,2026-01-01T00:00:05.000Z,\(s("user-1")),12.5,DE,,3.0",
                "events/0/2,,user-2,2026-01-01T00:00:02.001Z,,,,0.0,2026-01-02T00:00:00.000Z,\(s("user-2")),,\"a\"\"b\\cé, x\",,-0.5e-3",
                "events/1/7,e3,user-1,2026-01-01T00:00:03.000Z,fraud,2,0.75,0.5,2026-01-02T00:00:00.000Z,\(s("user-1")),1e300,,true,",
                "events/1/8,e4,ü-3,2026-01-01T00:00:03.000Z,fraud,2,0.125,1.0,2026-01-02T00:00:00.000Z,\(s("ü-3")),,,false,",
            ]
            #expect(csv == lines.joined(separator: "\r\n") + "\r\n")

            // Manifest: what the files hold, checked against pyarrow and hashlib.
            let manifest = try JSONDecoder().decode(SnapshotManifest.self, from: Data(contentsOf: URL(fileURLWithPath: snapshot.manifestPath)))
            #expect(manifest == snapshot.manifest)
            #expect(manifest.snapshotID == snapshot.snapshotID)
            #expect(manifest.createdAt == "2026-01-02T00:00:04.321Z")
            #expect(manifest.reason == .manual)
            #expect(manifest.alertID == nil)
            #expect(manifest.model == .init(name: nil, version: nil), "rows of two models (and none): no single model")
            #expect(manifest.timeRange == .init(since: nil, until: nil, minEventTime: "2026-01-01T00:00:01.000Z", maxEventTime: "2026-01-01T00:00:03.000Z"))
            #expect(manifest.rows == 4)
            let holdout = Int64(["user-1", "user-2", "user-1", "ü-3"].filter { split.isHoldout(entity: $0) }.count)
            #expect(manifest.holdoutRows == holdout)
            #expect(manifest.holdoutFraction == 0.5)
            #expect(manifest.split?.rule == HoldoutSplit.rule)
            #expect(manifest.columns.map { PyarrowSnapshot.Field(name: $0.name, type: $0.type, nullable: $0.nullable) } == read.schema)
            #expect(manifest.files.map(\.name) == ["data.parquet", "data.csv"])
            for file in manifest.files {
                let actual = try #require(read.files[file.name])
                #expect(file.sha256 == actual.sha256, "sha256 of \(file.name)")
                #expect(file.bytes == actual.bytes, "size of \(file.name)")
            }
            #expect(manifest.parquet == .init(compression: "snappy", rowGroupRows: 65_536, rowGroups: 1))
            let manifestText = try String(contentsOfFile: snapshot.manifestPath, encoding: .utf8)
            #expect(manifestText.contains("\"alert_id\" : null"), "absent values are written as null, not left out")

            // The snapshots row.
            let row = try #require(try await store.connection.query("""
                SELECT reason, alert_id, model_name, model_version, since, until, rows, holdout_rows, directory, parquet_file,
                       csv_file, manifest_file, parquet_sha256, csv_sha256, manifest::text, created_at
                FROM \(store.schema).snapshots WHERE snapshot_id = $1
                """, [snapshot.snapshotID]).first)
            #expect(try row.decode(String.self, column: 0) == "manual")
            #expect(try row.decode(String?.self, column: 1) == nil)
            #expect(try row.decode(String?.self, column: 2) == nil)
            #expect(try row.decode(Int?.self, column: 3) == nil)
            #expect(try row.decode(PostgresTimestamp?.self, column: 4) == nil)
            #expect(try row.decode(PostgresTimestamp?.self, column: 5) == nil)
            #expect(try row.decode(Int64.self, column: 6) == 4)
            #expect(try row.decode(Int64.self, column: 7) == holdout)
            #expect(try row.decode(String.self, column: 8) == snapshot.directory)
            #expect(try row.decode(String.self, column: 9) == snapshot.parquetPath)
            #expect(try row.decode(String.self, column: 10) == snapshot.csvPath)
            #expect(try row.decode(String.self, column: 11) == snapshot.manifestPath)
            #expect(try row.decode(String.self, column: 12) == read.files["data.parquet"]?.sha256)
            #expect(try row.decode(String.self, column: 13) == read.files["data.csv"]?.sha256)
            #expect(try row.decode(String.self, column: 14) == manifestText)
            #expect(try row.decode(PostgresTimestamp.self, column: 15) == PostgresTimestamp(millisecondsSinceUnixEpoch: created))

            // The catalog lists it.
            let listed = try await SnapshotListing(connection: store.connection, schema: store.schema).list()
            #expect(listed.map(\.snapshotID) == [snapshot.snapshotID])
            #expect(listed.first?.rows == 4)
        }
    }

    @Test func timeRangeAndModelFilterSelectExactlyTheMatchingRows() async throws {
        try await ScratchStore.with { store in
            var rows: [LabelledRow] = []
            for minute in 0..<10 {
                for (model, version) in [("fraud", Int32(1)), ("fraud", 2), ("churn", 2)] {
                    rows.append(LabelledRow(predictionID: "\(model)/\(version)/\(minute)", entity: "u\(minute)",
                                            eventTimeMillis: january1 + Int64(minute) * 60_000, modelName: model, modelVersion: version,
                                            features: #"{"x": \#(minute)}"#))
                }
            }
            try await store.insert(rows)
            var request = store.request(holdout: 0)
            request.sinceMillis = january1 + 2 * 60_000  // inclusive
            request.untilMillis = january1 + 5 * 60_000  // exclusive
            request.modelName = "fraud"
            request.modelVersion = 2
            let snapshot = try await store.exporter().export(request)
            #expect(snapshot.manifest.rows == 3)
            #expect(snapshot.manifest.model == .init(name: "fraud", version: 2))
            #expect(snapshot.manifest.timeRange.since == "2026-01-01T00:02:00.000Z")
            #expect(snapshot.manifest.timeRange.until == "2026-01-01T00:05:00.000Z")
            #expect(snapshot.manifest.timeRange.minEventTime == "2026-01-01T00:02:00.000Z")
            #expect(snapshot.manifest.timeRange.maxEventTime == "2026-01-01T00:04:00.000Z")
            #expect(snapshot.manifest.split == nil)
            #expect(!snapshot.manifest.columns.contains { $0.name == "split" }, "holdout 0 leaves the split column out")
            let csv = try String(contentsOfFile: snapshot.csvPath, encoding: .utf8)
            let ids = csv.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",").first.map(String.init) ?? "" }
            #expect(ids == ["fraud/2/2", "fraud/2/3", "fraud/2/4"])

            // Model name only (every version), with the name carried safely (a quote in it would break a literal).
            var byName = store.request(holdout: 0)
            byName.modelName = "churn"
            let churn = try await store.exporter().export(byName)
            #expect(churn.manifest.rows == 10)
            #expect(churn.manifest.model == .init(name: "churn", version: 2), "one version in the rows: the manifest names it")
            var quoted = store.request(holdout: 0)
            quoted.modelName = "o'brien"
            await expectSnapshotError(.noRows) { _ = try await store.exporter().export(quoted) }

            // The snapshots rows record the filter.
            let row = try #require(try await store.connection.query(
                "SELECT model_name, model_version, since, until FROM \(store.schema).snapshots WHERE snapshot_id = $1", [snapshot.snapshotID]).first)
            #expect(try row.decode(String.self, column: 0) == "fraud")
            #expect(try row.decode(Int.self, column: 1) == 2)
            #expect(try row.decode(PostgresTimestamp.self, column: 2) == PostgresTimestamp(millisecondsSinceUnixEpoch: january1 + 120_000))
            #expect(try row.decode(PostgresTimestamp.self, column: 3) == PostgresTimestamp(millisecondsSinceUnixEpoch: january1 + 300_000))
            let listed = try await SnapshotListing(connection: store.connection, schema: store.schema).list(model: "fraud")
            #expect(listed.map(\.snapshotID) == [snapshot.snapshotID])
        }
    }

    @Test(.enabled(if: SnapshotTestEnvironment.python != nil, SnapshotTestEnvironment.pythonDisabledReason))
    func splitIsDeterministicPerEntityAndNearTheFractionOverTenThousandEntities() async throws {
        try await ScratchStore.with { store in
            // Two rows per entity, far apart in time, so they are never next to each other in the files.
            var rows: [LabelledRow] = []
            for pass in 0..<2 {
                for entity in 0..<10_000 {
                    rows.append(LabelledRow(predictionID: "p\(pass)/\(entity)", entity: "customer-\(entity)",
                                            eventTimeMillis: january1 + Int64(pass * 10_000 + entity), features: #"{"v": \#(entity)}"#))
                }
            }
            try await store.insert(rows)
            let first = try await store.exporter().export(store.request(holdout: 0.2))
            let second = try await store.exporter().export(store.request(holdout: 0.2))
            #expect(first.snapshotID != second.snapshotID)

            let read = try PyarrowSnapshot.read(first.directory, rows: true)
            #expect(read.split_mismatches == 0, "pyarrow + Python's FNV-1a agree with every row")
            #expect(read.entities_on_both_sides == 0, "both rows of an entity land on the same side")
            let share = Double(first.manifest.holdoutRows) / Double(first.manifest.rows)
            #expect(share > 0.18 && share < 0.22, "holdout share \(share) for fraction 0.2")
            #expect(first.manifest.holdoutRows == second.manifest.holdoutRows)
            // Same selection, same bytes: the data files are identical (the manifest differs by id and time).
            let again = try PyarrowSnapshot.read(second.directory)
            #expect(read.files["data.csv"]?.sha256 == again.files["data.csv"]?.sha256)

            // The rule is the entity's alone: a third export at another fraction moves entities only one way.
            let wider = try await store.exporter().export(store.request(holdout: 0.5))
            let narrowSides = try PyarrowSnapshot.read(first.directory, rows: true).column("split")
            let wideSides = try PyarrowSnapshot.read(wider.directory, rows: true).column("split")
            #expect(zip(narrowSides, wideSides).allSatisfy { narrow, wide in narrow != .s("holdout") || wide == .s("holdout") })
        }
    }

    @Test(.enabled(if: SnapshotTestEnvironment.python != nil, SnapshotTestEnvironment.pythonDisabledReason))
    func smallRowGroupsGiveSeveralRowGroups() async throws {
        try await ScratchStore.with { store in
            let rows = (0..<10_000).map { index in
                LabelledRow(predictionID: String(format: "p%05d", index), entity: "e\(index % 97)", eventTimeMillis: january1 + Int64(index),
                            features: #"{"a": \#(index), "b": "s\#(index % 7)", "c": \#(Double(index) / 3)}"#)
            }
            try await store.insert(rows)
            let snapshot = try await store.exporter().export(store.request(rowGroupRows: 1_000))
            let read = try PyarrowSnapshot.read(snapshot.directory, rows: true)
            #expect(read.row_groups == 10)
            #expect(snapshot.manifest.parquet.rowGroups == 10)
            #expect(read.num_rows == 10_000)
            let c = try read.column("c")
            #expect(c.enumerated().allSatisfy { index, cell in cell == .d(Double(index) / 3) }, "doubles survive the JSON round trip exactly")
            let b = try read.column("b")
            #expect(b[9_999] == .s("s\(9_999 % 7)"))
        }
    }

    @Test func emptySelectionIsAnErrorAndWritesNothing() async throws {
        try await ScratchStore.with { store in
            try await store.insert([LabelledRow(predictionID: "a", entity: "e", eventTimeMillis: january1, features: #"{"x": 1}"#)])
            var request = store.request()
            request.sinceMillis = january1 + 1
            let error = await expectSnapshotError(.noRows) { _ = try await store.exporter().export(request) }
            #expect(error?.message.contains("no labelled rows match any model, event time at or after 2026-01-01T00:00:00.001Z") == true, "\(error?.message ?? "")")
            #expect(store.directoryEntries().isEmpty, "no snapshot directory and no staging directory")
            let count = try #require(try await store.connection.query("SELECT count(*) FROM \(store.schema).snapshots").first)
            #expect(try count.decode(Int64.self, column: 0) == 0)

            // A schema without the tables says to migrate.
            let missing = try SnapshotExporter(connection: store.connection, schema: store.schema + "_none")
            await expectSnapshotError(.notMigrated) { _ = try await missing.export(store.request()) }
        }
    }

    @Test func featureWithNumbersAndStringsIsRefusedNamingBothRows() async throws {
        try await ScratchStore.with { store in
            try await store.insert([
                LabelledRow(predictionID: "num", entity: "e", eventTimeMillis: january1, features: #"{"merchant": 7}"#),
                LabelledRow(predictionID: "str", entity: "e", eventTimeMillis: january1 + 1, features: #"{"merchant": "acme"}"#),
            ])
            let error = await expectSnapshotError(.mixedFeatureTypes) { _ = try await store.exporter().export(store.request()) }
            let message = error?.message ?? ""
            #expect(message.contains("feature 'merchant' has number values (e.g. prediction num) and string values (e.g. prediction str)"), "\(message)")
            #expect(store.directoryEntries().isEmpty)
        }
    }

    @Test func mixedTypesBeyondTheSampleAreStillRefused() async throws {
        try await ScratchStore.with { store in
            // 3,000 rows: the sample (1,000 oldest + 1,000 newest) never sees row 1,500's string.
            var rows = (0..<3_000).map { index in
                LabelledRow(predictionID: String(format: "p%04d", index), entity: "e\(index)", eventTimeMillis: january1 + Int64(index),
                            features: #"{"amount": \#(index)}"#)
            }
            rows[1_500].features = #"{"amount": "1500"}"#
            try await store.insert(rows)
            let error = await expectSnapshotError(.mixedFeatureTypes) { _ = try await store.exporter().export(store.request()) }
            #expect(error?.message.contains("string values (e.g. prediction p1500)") == true, "\(error?.message ?? "")")
            #expect(store.directoryEntries().isEmpty, "the discarded pass left nothing behind")
        }
    }

    @Test(.enabled(if: SnapshotTestEnvironment.python != nil, SnapshotTestEnvironment.pythonDisabledReason))
    func featuresOutsideTheSampleGetTheirColumns() async throws {
        try await ScratchStore.with { store in
            // `late` exists only in the middle of the range; `sparse` is null at both ends and a string in the middle.
            var rows = (0..<3_000).map { index in
                LabelledRow(predictionID: String(format: "p%04d", index), entity: "e\(index)", eventTimeMillis: january1 + Int64(index),
                            features: #"{"amount": \#(index), "sparse": null}"#)
            }
            for index in 1_400..<1_600 {
                rows[index].features = #"{"amount": \#(index), "late": \#(index * 2), "sparse": "s\#(index)"}"#
            }
            try await store.insert(rows)
            let snapshot = try await store.exporter().export(store.request(holdout: 0))
            let read = try PyarrowSnapshot.read(snapshot.directory, rows: true)
            #expect(read.schema.suffix(3) == [.init(name: "amount", type: "double", nullable: true),
                                              .init(name: "late", type: "double", nullable: true),
                                              .init(name: "sparse", type: "string", nullable: true)])
            let late = try read.column("late")
            let sparse = try read.column("sparse")
            #expect(read.num_rows == 3_000)
            for index in [0, 1_399, 1_400, 1_599, 1_600, 2_999] {
                let inside = (1_400..<1_600).contains(index)
                #expect(late[index] == (inside ? .d(Double(index * 2)) : nil), "late at \(index)")
                #expect(sparse[index] == (inside ? .s("s\(index)") : nil), "sparse at \(index)")
            }
        }
    }

    @Test func featureNullEverywhereIsADoubleColumnOfNulls() async throws {
        try await ScratchStore.with { store in
            try await store.insert([
                LabelledRow(predictionID: "a", entity: "e", eventTimeMillis: january1, features: #"{"gone": null, "x": 1}"#),
                LabelledRow(predictionID: "b", entity: "e", eventTimeMillis: january1 + 1, features: "null"),
            ])
            let snapshot = try await store.exporter().export(store.request(holdout: 0))
            #expect(snapshot.manifest.columns.suffix(2) == [SnapshotColumn(name: "gone", type: "double", nullable: true),
                                                            SnapshotColumn(name: "x", type: "double", nullable: true)])
            let csv = try String(contentsOfFile: snapshot.csvPath, encoding: .utf8).split(separator: "\r\n")
            #expect(csv.count == 3)
            #expect(csv[1].hasSuffix(",,1.0"))
            #expect(csv[2].hasSuffix(",,"))
        }
    }

    @Test func malformedFeaturesAreRefusedNamingThePrediction() async throws {
        try await ScratchStore.with { store in
            try await store.insert([
                LabelledRow(predictionID: "ok", entity: "e", eventTimeMillis: january1, features: #"{"x": 1}"#),
                LabelledRow(predictionID: "nested", entity: "e", eventTimeMillis: january1 + 1, features: #"{"x": 2, "y": {"z": 1}}"#),
            ])
            let error = await expectSnapshotError(.invalidData) { _ = try await store.exporter().export(store.request()) }
            #expect(error?.message.contains("feature 'y' has object values (e.g. prediction nested)") == true, "\(error?.message ?? "")")

            try await store.connection.execute("DELETE FROM \(store.schema).labelled WHERE prediction_id = 'nested'")
            try await store.insert([LabelledRow(predictionID: "label", entity: "e", eventTimeMillis: january1 + 2, features: #"{"label": 2}"#)])
            let clash = await expectSnapshotError(.invalidData) { _ = try await store.exporter().export(store.request()) }
            #expect(clash?.message.contains("feature 'label' has the name of a fixed snapshot column") == true, "\(clash?.message ?? "")")
            #expect(store.directoryEntries().isEmpty)
        }
    }
}
