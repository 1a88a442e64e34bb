import Foundation
import SluiceInference
import SluiceMonitoring
import SluicePostgres
import SluiceRegistry
import Testing

/// `sluice drift compare`, `sluice drift status` and `sluice models register --reference`, run as separate processes.
@Suite("sluice drift command line", .timeLimit(.minutes(2)))
struct DriftCommandTests {
    static let config = ["--config", "config/sluice.yaml"]

    static func requireBinary() throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "JSON object expected: \(text)")
    }

    static func features(_ report: [String: Any]) throws -> [[String: Any]] {
        try #require(report["features"] as? [[String: Any]])
    }

    /// Checks one `features` element of `drift compare --json` against scipy's result.
    static func expect(_ feature: [String: Any], agreesWith expected: ExpectedComparison.Result, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(feature["feature"] as? String == expected.feature, sourceLocation: sourceLocation)
        expectAgreement(test: feature["test"] as? String ?? "?", statistic: feature["statistic"] as? Double ?? .nan,
                        pValue: feature["p_value"] as? Double, threshold: feature["threshold"] as? Double ?? .nan,
                        drifted: feature["drifted"] as? Bool ?? !expected.drifted, events: feature["events"] as? Int ?? -1,
                        with: expected, sourceLocation: sourceLocation)
    }

    static func temporaryFile(_ name: String, _ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(UUID().uuidString.prefix(8))-\(name)")
        try Data(text.utf8).write(to: url)
        return url
    }

    // MARK: compare

    @Test func compareJSONAgreesWithScipyForEveryColumn() throws {
        try Self.requireBinary()
        let expected = try ExpectedComparison.load()
        let run = try ModelsCommandTests.sluice(["drift", "compare", "--reference", ExpectedComparison.reference, "--current", ExpectedComparison.current, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try Self.object(run.stdout)
        let features = try Self.features(report)
        try #require(features.count == expected.defaults.features.count)
        for (feature, want) in zip(features, expected.defaults.features) { Self.expect(feature, agreesWith: want) }
        #expect(features.map { $0["kind"] as? String } == expected.defaults.features.map { ["last_country", "channel"].contains($0.feature) ? "categorical" : "numerical" })
        #expect(report["drifted_features"] as? Int == expected.defaults.drifted_features)
        #expect(report["total_features"] as? Int == expected.defaults.total_features)
        #expect(report["dataset_drift"] as? Bool == expected.defaults.dataset_drift)
        #expect(report["drift_share"] as? Double == 0.5)
        #expect((report["reference"] as? [String: Any])?["rows"] as? Int == 800)
        #expect((report["current"] as? [String: Any])?["rows"] as? Int == 1000)

        let text = try ModelsCommandTests.sluice(["drift", "compare", "--reference", ExpectedComparison.reference, "--current", ExpectedComparison.current])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("COLUMN") && $0.contains("P-VALUE") })
        #expect(lines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["channel", "categorical", "z", "-3.08086", "0.002064", "0.05", "yes", "1000"] })
        #expect(lines.last == "dataset drift: yes (7 of 11 columns drifted, share 0.636 ≥ 0.5)")
    }

    @Test func compareWithAConfigUsesItsOverridesForTheColumnsTheFilesHave() throws {
        try Self.requireBinary()
        let expected = try ExpectedComparison.load()
        // config/sluice.yaml: amount {test: psi, threshold: 0.2}, merchants_7d {test: wasserstein, threshold: 0.1}.
        let run = try ModelsCommandTests.sluice(["drift", "compare", "--reference", ExpectedComparison.reference, "--current", ExpectedComparison.current,
                                                 "--json"] + Self.config)
        #expect(run.status == 0, "\(run.stderr)")
        let features = try Self.features(try Self.object(run.stdout))
        let byName = Dictionary(uniqueKeysWithValues: features.map { ($0["feature"] as? String ?? "", $0) })
        #expect(byName["amount"]?["test"] as? String == "psi")
        #expect(byName["amount"]?["threshold"] as? Double == 0.2)
        #expect(byName["amount"]?["p_value"] is NSNull)
        Self.expect(try #require(byName["merchants_7d"]), agreesWith: try #require(expected.overrides.first { $0.feature == "merchants_7d" }))
        for want in expected.defaults.features where !["amount", "merchants_7d"].contains(want.feature) {
            Self.expect(try #require(byName[want.feature]), agreesWith: want)
        }

        // The same mapping reads SLUICE_DRIFT_OVERRIDE_<feature> and dataset_share from the environment.
        let env = try ModelsCommandTests.sluice(["drift", "compare", "--reference", ExpectedComparison.reference, "--current", ExpectedComparison.current,
                                                 "--json"] + Self.config,
                                                environment: ["SLUICE_DRIFT_OVERRIDE_last_country": "jensenshannon:0.1", "SLUICE_DRIFT_DATASET_SHARE": "0.9"])
        #expect(env.status == 0, "\(env.stderr)")
        let report = try Self.object(env.stdout)
        let country = try #require(try Self.features(report).first { $0["feature"] as? String == "last_country" })
        Self.expect(country, agreesWith: try #require(expected.overrides.first { $0.feature == "last_country" }))
        #expect(report["drift_share"] as? Double == 0.9)
        #expect(report["dataset_drift"] as? Bool == false)
    }

    @Test func compareNamesTheFileLineAndColumnOfABadCellAndRefusesParquet() throws {
        try Self.requireBinary()
        var lines = try String(contentsOf: Files.url(ExpectedComparison.current), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var cells = lines[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[3] = "n/a"  // amount_sum_1h, numerical in the reference
        lines[4] = cells.joined(separator: ",")
        let current = try Self.temporaryFile("current.csv", lines.joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(at: current) }
        let run = try ModelsCommandTests.sluice(["drift", "compare", "--reference", ExpectedComparison.reference, "--current", current.path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "error: \(current.path) line 5, column \"amount_sum_1h\": \"n/a\" is not a number; expected a number, or an empty cell or NaN for a missing value\n")

        let parquet = try ModelsCommandTests.sluice(["drift", "compare", "--reference", "snapshots/train.parquet", "--current", ExpectedComparison.current])
        #expect(parquet.status == 1)
        #expect(parquet.stderr.hasPrefix("error: snapshots/train.parquet is a Parquet file; reference data in Parquet is not supported yet, only CSV"))

        let missing = try Self.temporaryFile("narrow.csv", "amount,channel\n1.5,web\n")
        defer { try? FileManager.default.removeItem(at: missing) }
        let narrow = try ModelsCommandTests.sluice(["drift", "compare", "--reference", ExpectedComparison.reference, "--current", missing.path])
        #expect(narrow.status == 1)
        #expect(narrow.stderr.hasPrefix("error: \(missing.path) lacks the column(s) txn_count_1h, txn_count_24h,"))
    }

    // MARK: register --reference

    @Test func registerWithAReferenceStoresItsProfileAndABadFileRegistersNothing() async throws {
        try Self.requireBinary()
        let scratch = try await Scratch()
        let environment = ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": scratch.schema]
        let registered = try ModelsCommandTests.sluice(["models", "register"] + Self.config + ["--name", "fraud", "--file", "examples/models/fraud-xgb.json",
                                                        "--reference", ExpectedComparison.reference], environment: environment)
        #expect(registered.status == 0, "\(registered.stderr)")
        let lines = registered.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("registered fraud version 1 (xgboost-json, 9 features") == true)
        #expect(lines.last == "reference profile from examples/drift/reference.csv: 800 rows, 11 columns (\((examplePipeline + ["score"]).joined(separator: ", ")))")

        let profile = try #require(try await scratch.registry.reference(name: "fraud", version: 1))
        #expect(profile.source == "reference.csv")
        #expect(profile.features.map(\.name) == examplePipeline + ["score"])
        #expect(profile.features.filter { $0.kind == .categorical }.map(\.name) == ["last_country"])
        let model = try ModelLoader.load(contentsOf: Files.url("examples/models/fraud-xgb.json"))
        let scores = try CSVScoring(model: model).score(contentsOf: Files.url(ExpectedComparison.reference)).predictions
        #expect(profile.features.last == FeatureProfile.numerical(name: "score", values: scores))

        // A bad cell: the error names the file, line and column, and no version 2 is left behind.
        var text = try String(contentsOf: Files.url(ExpectedComparison.reference), encoding: .utf8).split(separator: "\n").map(String.init)
        text[2] = "abc" + text[2].drop { $0 != "," }
        let bad = try Self.temporaryFile("reference.csv", text.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(at: bad) }
        let refused = try ModelsCommandTests.sluice(["models", "register"] + Self.config + ["--name", "fraud", "--file", "examples/models/fraud-xgb.json",
                                                     "--reference", bad.path], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr == "error: \(bad.path) line 3, column \"amount\": \"abc\" is not a number; expected a number, or an empty cell or NaN for a missing value\n")

        let parquet = try ModelsCommandTests.sluice(["models", "register"] + Self.config + ["--name", "fraud", "--file", "examples/models/fraud-xgb.json",
                                                     "--reference", "train.parquet"], environment: environment)
        #expect(parquet.status == 1)
        #expect(parquet.stderr.contains("not supported yet, only CSV"))
        #expect(try await scratch.registry.list(name: "fraud").map(\.version) == [1])
        try await scratch.drop()
    }

    // MARK: status

    @Test func statusShowsTheLatestReportAndTheAlertsFiringPerModel() async throws {
        try Self.requireBinary()
        let scratch = try await Scratch()
        let s = scratch.schema
        let environment = ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": s]
        let results = #"[{"feature": "amount", "test": "ks", "statistic": 0.21, "p_value": 1e-9, "threshold": 0.05, "drifted": true, "events": 99000}, {"feature": "score", "test": "wasserstein", "statistic": 0.05, "p_value": null, "threshold": 0.1, "drifted": false, "events": 100000}]"#
        try await scratch.connection.execute("""
            INSERT INTO \(s).drift_reports (model_name, model_version, evaluated_at, window_start, window_end, window_events, reference_source,
                                            reference_events, drifted_features, total_features, dataset_drift, results)
            VALUES ('fraud', 1, '2025-06-01T10:00:00Z', NULL, NULL, 100000, 'live:first-10000', 10000, 0, 2, false, '[]'),
                   ('churn', 4, '2025-06-01T10:30:00Z', '2025-06-01T09:30:00Z', '2025-06-01T10:30:00Z', 5000, 'churn.csv', 900, 1, 1, true,
                    '[{"feature": "tenure", "test": "chisquare", "statistic": 30.5, "p_value": 2e-6, "threshold": 0.05, "drifted": true, "events": 5000}]')
            """)
        let latest = try await scratch.connection.query("""
            INSERT INTO \(s).drift_reports (model_name, model_version, evaluated_at, window_start, window_end, window_events, reference_source,
                                            reference_events, drifted_features, total_features, dataset_drift, results)
            VALUES ('fraud', 2, '2025-06-01T11:00:00Z', '2025-06-01T10:00:00Z', '2025-06-01T11:00:00.250Z', 100000, 'reference.csv', 800, 1, 2, true, $1::text::json)
            RETURNING id
            """, [results])
        let latestID = try latest[0].decode(Int64.self, column: 0)
        let message = #"{"alert_id": "fraud/amount/ks/1", "kind": "data_drift", "state": "firing", "severity": "critical", "model": {"name": "fraud", "version": 2}, "feature": "amount", "test": "ks", "statistic": 0.21, "threshold": 0.05, "p_value": 1e-9, "window": {"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T11:00:00Z", "events": 100000}, "reference": {"source": "reference.csv", "events": 800}}"#
        try await scratch.connection.execute("""
            INSERT INTO \(s).drift_alerts (alert_id, kind, state, severity, model_name, model_version, feature, test, statistic, threshold, p_value,
                                           window_start, window_end, window_events, created_at, message)
            VALUES ('fraud/amount/ks/1', 'data_drift', 'firing', 'critical', 'fraud', 2, 'amount', 'ks', 0.21, 0.05, 1e-9,
                    '2025-06-01T10:00:00Z', '2025-06-01T11:00:00Z', 100000, '2025-06-01T11:00:01Z', $1::text::json),
                   ('fraud/score/wasserstein/1', 'prediction_drift', 'resolved', 'minor', 'fraud', 2, 'score', 'wasserstein', 0.05, 0.1, NULL,
                    NULL, NULL, NULL, '2025-06-01T11:00:02Z', '{}'),
                   ('quiet/x/psi/1', 'data_drift', 'resolved', 'major', 'quiet', 1, 'x', 'psi', 0.01, 0.1, NULL, NULL, NULL, NULL, '2025-06-01T09:00:00Z', '{}'),
                   ('churn/tenure/chisquare/1', 'data_drift', 'firing', 'major', 'churn', 4, 'tenure', 'chisquare', 30.5, 0.05, 2e-6,
                    NULL, NULL, 5000, '2025-06-01T10:30:01Z', '{"alert_id": "churn/tenure/chisquare/1"}')
            """, [message])

        let run = try ModelsCommandTests.sluice(["drift", "status", "--json"] + Self.config, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let models = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(models.map { $0["model"] as? String } == ["churn", "fraud", "quiet"], "quiet has only a resolved alert")
        try #require(models.count == 3)
        let fraud = models[1]
        let report = try #require(fraud["latest_report"] as? [String: Any])
        #expect((report["id"] as? NSNumber)?.int64Value == latestID)
        #expect(report["model_version"] as? Int == 2)
        #expect(report["evaluated_at"] as? String == "2025-06-01T11:00:00.000Z")
        let window = try #require(report["window"] as? [String: Any])
        #expect(window["start"] as? String == "2025-06-01T10:00:00.000Z" && window["end"] as? String == "2025-06-01T11:00:00.250Z")
        #expect(window["events"] as? Int == 100000)
        let reference = try #require(report["reference"] as? [String: Any])
        #expect(reference["source"] as? String == "reference.csv" && reference["events"] as? Int == 800)
        #expect(report["drifted_features"] as? Int == 1 && report["total_features"] as? Int == 2 && report["dataset_drift"] as? Bool == true)
        let rows = try #require(report["results"] as? [[String: Any]])
        #expect(rows.map { $0["feature"] as? String } == ["amount", "score"])
        #expect(rows.first?["statistic"] as? Double == 0.21 && rows.first?["p_value"] as? Double == 1e-9 && rows.first?["drifted"] as? Bool == true)
        let firing = try #require(fraud["firing_alerts"] as? [[String: Any]])
        #expect(firing.map { $0["alert_id"] as? String } == ["fraud/amount/ks/1"], "the resolved alert is not firing")
        #expect(firing.first?["severity"] as? String == "critical")
        let published = try #require(firing.first?["message"] as? [String: Any], "the stored message, as published")
        #expect(published["alert_id"] as? String == "fraud/amount/ks/1")
        #expect((published["model"] as? [String: Any])?["version"] as? Int == 2)
        #expect((published["reference"] as? [String: Any])?["events"] as? Int == 800)
        #expect(models[2]["latest_report"] is NSNull)
        #expect((models[2]["firing_alerts"] as? [Any])?.isEmpty == true)
        #expect(((models[0]["firing_alerts"] as? [[String: Any]])?.first?["window"] as? [String: Any])?["start"] is NSNull)

        let text = try ModelsCommandTests.sluice(["drift", "status", "--model", "fraud"] + Self.config, environment: environment)
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "model fraud")
        #expect(lines.contains("  latest report #\(latestID) (version 2), evaluated 2025-06-01T11:00:00Z"))
        #expect(lines.contains("  window     2025-06-01T10:00:00Z → 2025-06-01T11:00:00Z, 100000 events"))
        #expect(lines.contains("  drift      1 of 2 features drifted; dataset drift: yes"))
        #expect(lines.contains { $0.split(separator: " ") == ["amount", "ks", "0.21", "1e-09", "0.05", "yes", "99000"] })
        #expect(lines.contains("  firing alerts: 1"))
        #expect(lines.contains { $0.split(separator: " ").prefix(4) == ["fraud/amount/ks/1", "data_drift", "critical", "2"] })
        #expect(!text.stdout.contains("churn") && !text.stdout.contains("fraud/score"))

        let unknown = try ModelsCommandTests.sluice(["drift", "status", "--model", "nobody"] + Self.config, environment: environment)
        #expect(unknown.stdout == "model nobody\n  no drift report yet\n  no alert firing\n")
        try await scratch.drop()
    }

    @Test func statusOnASchemaWithoutTheDriftTablesSaysToMigrate() async throws {
        try Self.requireBinary()
        let scratch = try await Scratch()
        try await scratch.connection.execute("DROP TABLE \(scratch.schema).drift_reports, \(scratch.schema).drift_alerts")
        let environment = ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": scratch.schema]
        let run = try ModelsCommandTests.sluice(["drift", "status"] + Self.config, environment: environment)
        #expect(run.status == 1)
        #expect(run.stderr == "error: schema \(scratch.schema) has no drift tables (drift_reports, drift_alerts) yet: run `sluice migrate` to apply the feature store's migrations\n")
        let absent = try ModelsCommandTests.sluice(["drift", "status"] + Self.config,
                                                   environment: ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": "never_migrated_\(UUID().uuidString.prefix(6).lowercased())"])
        #expect(absent.status == 1)
        #expect(absent.stderr.contains("run `sluice migrate`"))
        try await scratch.drop()
    }
}
