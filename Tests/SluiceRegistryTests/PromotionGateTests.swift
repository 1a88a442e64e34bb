import Foundation
import SluiceEvaluation
import SluiceInference
import SluiceRegistry
import Testing

/// The promotion gate against a real PostgreSQL: snapshot lookup, scoring both versions with their registered
/// artifacts, the requirements, and the stage change (or none).
@Suite("promotion gate", .timeLimit(.minutes(2)))
struct PromotionGateTests {
    /// The Swift evaluators reproduce XGBoost's float32 trees to ~1e-7 per score; metrics of 60 rows stay well
    /// within this of scikit-learn's figures computed from the training libraries' own predictions.
    static let tolerance = 1e-6

    func requirements(_ texts: String...) throws -> [GateRequirement] {
        try texts.map { try GateRequirement(parsing: $0) }
    }

    /// A scratch schema with `linear_weak` as version 1 and `xgb_strong` as version 2 of a fresh model name, and a
    /// snapshot of that name.
    func setUp(productionVersion: Int?) async throws -> (Scratch, SnapshotDirectory, String) {
        let scratch = try await Scratch()
        let name = uniqueName("gate")
        _ = try await scratch.registry.register(name: name, artifact: try GateFixtures.linearWeak, format: nil, pipelineFeatures: nil)
        _ = try await scratch.registry.register(name: name, artifact: try GateFixtures.xgbStrong, format: nil, pipelineFeatures: nil)
        if let productionVersion {
            _ = try await scratch.registry.promote(name: name, version: productionVersion)
        }
        let snapshots = try SnapshotDirectory()
        try await snapshots.add(scratch, id: "snap-\(name)", model: name, createdAt: "2026-01-08T00:00:00Z", csv: try GateFixtures.csv)
        return (scratch, snapshots, name)
    }

    @Test func snapshotFilesResolveAgainstTheDirectoryUnlessAbsolute() {
        #expect(SnapshotRecord.resolve("s1/data.csv", directory: "/var/sluice/snapshots") == "/var/sluice/snapshots/s1/data.csv")
        #expect(SnapshotRecord.resolve("data.csv", directory: "/var/sluice/snapshots/s1/") == "/var/sluice/snapshots/s1/data.csv")
        #expect(SnapshotRecord.resolve("./data.csv", directory: "./snapshots/s1") == "./snapshots/s1/data.csv")
        #expect(SnapshotRecord.resolve("/data/s1/data.csv", directory: "/var/sluice/snapshots") == "/data/s1/data.csv")
        #expect(SnapshotRecord.resolve("s1/data.csv", directory: "/") == "/s1/data.csv")
        #expect(SnapshotRecord.resolve("data.csv", directory: "") == "data.csv")
    }

    @Test func aPassingGatePromotesWithScikitLearnsFigures() async throws {
        let (scratch, snapshots, name) = try await setUp(productionVersion: 1)
        defer { snapshots.remove() }
        let expected = try GateFixtures.expected
        let gate = try PromotionGate(registry: scratch.registry)
        let (report, promoted) = try await gate.promote(
            name: name, version: 2, to: .production,
            requirements: try requirements("auc>=0.9", "logloss<=production", "auc>=production-0.01", "rmse<production", "f1>0.5"),
            snapshotID: nil, allowFirst: false)

        #expect(report.passed)
        #expect(promoted?.version == 2)
        #expect(promoted?.stage == .production)
        #expect(try await scratch.registry.currentVersions(name: name) == (production: 2, shadow: nil))
        #expect(try await scratch.registry.show(name: name, version: 1)?.stage == .archived)

        #expect(report.snapshot.snapshotID == "snap-\(name)")
        #expect(report.usesSplit)
        #expect(report.rowsEvaluated == expected.holdout_rows)
        #expect(report.csvPath == snapshots.root.appendingPathComponent("snap-\(name)/data.csv").path)
        #expect(report.production?.version == 1)
        #expect(report.notes.isEmpty)
        for check in report.checks {
            let metric = check.requirement.metric.rawValue
            let candidate = try #require(expected.holdout["xgb_strong"]?[metric])
            let production = try #require(expected.holdout["linear_weak"]?[metric])
            #expect(abs(check.candidate - candidate) <= Self.tolerance, "\(metric): sluice \(check.candidate), scikit-learn \(candidate)")
            #expect(abs((check.production ?? .nan) - production) <= Self.tolerance, "\(metric): sluice \(check.production ?? .nan), scikit-learn \(production)")
            #expect(check.outcome == .passed)
        }
        let relative = try #require(report.checks.first { $0.requirement.text == "auc>=production-0.01" })
        #expect(abs((relative.threshold ?? .nan) - ((relative.production ?? .nan) - 0.01)) <= 1e-15)
        try await scratch.drop()
    }

    @Test func aFailingGateChangesNoStageAndReportsBothFigures() async throws {
        // Production is the strong model; the weak one asks to replace it.
        let (scratch, snapshots, name) = try await setUp(productionVersion: 2)
        defer { snapshots.remove() }
        let expected = try GateFixtures.expected
        let gate = try PromotionGate(registry: scratch.registry)
        let (report, promoted) = try await gate.promote(
            name: name, version: 1, to: .production, requirements: try requirements("auc>=0.7", "logloss<=production"),
            snapshotID: nil, allowFirst: false)

        #expect(promoted == nil)
        #expect(!report.passed)
        #expect(try await scratch.registry.currentVersions(name: name) == (production: 2, shadow: nil))
        #expect(try await scratch.registry.show(name: name, version: 1)?.stage == .staging)
        #expect(try await scratch.registry.history(name: name).count == 3)  // two registrations, one promotion

        #expect(report.checks[0].outcome == .passed)
        let failure = try #require(report.failures.first)
        #expect(report.failures.count == 1)
        #expect(failure.requirement.metric == .logloss)
        let candidate = try #require(expected.holdout["linear_weak"]?["logloss"])
        let production = try #require(expected.holdout["xgb_strong"]?["logloss"])
        #expect(abs(failure.candidate - candidate) <= Self.tolerance)
        #expect(abs((failure.production ?? .nan) - production) <= Self.tolerance)
        let reason = try #require(failure.outcome.reason)
        #expect(reason == "candidate logloss \(GateRequirement.format(failure.candidate)) is not <= \(GateRequirement.format(failure.production ?? .nan)) (production \(GateRequirement.format(failure.production ?? .nan)))")
        #expect(reason.contains(String(format: "%.6f", candidate)) && reason.contains(String(format: "%.6f", production)))
        try await scratch.drop()
    }

    @Test func productionRelativeRequirementsWithoutProductionFailUnlessFirstIsAllowed() async throws {
        let (scratch, snapshots, name) = try await setUp(productionVersion: nil)
        defer { snapshots.remove() }
        let gate = try PromotionGate(registry: scratch.registry)
        let texts = try requirements("auc>=0.8", "logloss<=production")

        let (refused, none) = try await gate.promote(name: name, version: 2, to: .production, requirements: texts, snapshotID: nil, allowFirst: false)
        #expect(none == nil)
        #expect(refused.production == nil)
        #expect(refused.failures.map(\.requirement.text) == ["logloss<=production"])
        #expect(refused.failures.first?.outcome.reason?.contains("there is none (pass --allow-first") == true)
        #expect(refused.notes.contains { $0.contains("has no production version to compare with; pass --allow-first") })
        #expect(try await scratch.registry.currentVersions(name: name) == (production: nil, shadow: nil))

        let (report, promoted) = try await gate.promote(name: name, version: 2, to: .production, requirements: texts, snapshotID: nil, allowFirst: true)
        #expect(promoted?.stage == .production)
        #expect(report.checks.map(\.outcome.label) == ["pass", "skipped"])
        #expect(report.notes.contains { $0.contains("are skipped (--allow-first)") })
        #expect(try await scratch.registry.currentVersions(name: name) == (production: 2, shadow: nil))

        // A fixed bound still has to hold with --allow-first.
        let (strict, stays) = try await gate.promote(name: name, version: 1, to: .production, requirements: try requirements("auc>=0.9"),
                                                     snapshotID: nil, allowFirst: true)
        #expect(stays == nil)
        #expect(!strict.passed)
        try await scratch.drop()
    }

    @Test func snapshotsResolveByIdThenNewestOfTheModel() async throws {
        let (scratch, snapshots, name) = try await setUp(productionVersion: 1)
        defer { snapshots.remove() }
        let gate = try PromotionGate(registry: scratch.registry)
        // An older snapshot of the model (absolute csv_file), a newer one of another model, a newest one of the model.
        try await snapshots.add(scratch, id: "old", model: name, createdAt: "2026-01-01T00:00:00Z", csv: try GateFixtures.csv, absolute: true)
        try await snapshots.add(scratch, id: "other-model", model: "someone-else", createdAt: "2026-02-01T00:00:00Z", csv: try GateFixtures.csv)
        try await snapshots.add(scratch, id: "newest", model: name, createdAt: "2026-01-09T00:00:00Z", csv: try GateFixtures.csvWithoutSplit())

        let newest = try await gate.snapshot(id: nil, modelName: name)
        #expect(newest.snapshotID == "newest")
        #expect(newest.csvFile == "newest/data.csv")
        #expect(newest.csvPath == snapshots.root.appendingPathComponent("newest/data.csv").path)
        let old = try await gate.snapshot(id: "old", modelName: name)
        #expect(old.csvFile.hasPrefix("/"))
        #expect(old.csvPath == snapshots.root.appendingPathComponent("old/data.csv").path)
        #expect(old.holdoutRows == 60)
        #expect(try await gate.snapshot(id: "other-model", modelName: name).modelName == "someone-else")

        // Explicit id with an absolute path evaluates; a snapshot of another model is used with a note.
        let explicit = try await gate.evaluate(name: name, version: 2, requirements: try requirements("auc>=0.5"), snapshotID: "old", allowFirst: false)
        #expect(explicit.snapshot.snapshotID == "old")
        #expect(explicit.rowsEvaluated == 60)
        let foreign = try await gate.evaluate(name: name, version: 2, requirements: try requirements("auc>=0.5"), snapshotID: "other-model", allowFirst: false)
        #expect(foreign.notes == ["snapshot 'other-model' was exported for model 'someone-else', not '\(name)'"])

        // The default is the newest, which has no split column: every row is evaluated, and the report says so.
        let expected = try GateFixtures.expected
        let all = try await gate.evaluate(name: name, version: 2, requirements: try requirements("auc>=production"), snapshotID: nil, allowFirst: false)
        #expect(all.snapshot.snapshotID == "newest")
        #expect(!all.usesSplit)
        #expect(all.rowsEvaluated == expected.rows)
        #expect(all.notes.first?.hasPrefix("snapshot 'newest' has no split column, so there is no holdout: evaluated on all 240 rows") == true)
        #expect(abs(all.checks[0].candidate - (expected.all["xgb_strong"]?["auc"] ?? .nan)) <= Self.tolerance)
        #expect(abs((all.checks[0].production ?? .nan) - (expected.all["linear_weak"]?["auc"] ?? .nan)) <= Self.tolerance)

        // Unknown id, and a model without snapshots.
        do {
            _ = try await gate.snapshot(id: "nope", modelName: name)
            Issue.record("expected no snapshot 'nope'")
        } catch let error as GateError {
            #expect(error.code == .noSnapshot)
            #expect(error.message.hasPrefix("there is no snapshot 'nope' in \(scratch.schema).snapshots"))
        }
        do {
            _ = try await gate.evaluate(name: "unsnapped", version: 1, requirements: try requirements("auc>=0.5"), snapshotID: nil, allowFirst: false)
            Issue.record("expected a missing model")
        } catch let error as RegistryError {
            #expect(error.code == .notFound)
        }
        let lonely = uniqueName("lonely")
        _ = try await scratch.registry.register(name: lonely, artifact: try GateFixtures.xgbStrong, format: nil, pipelineFeatures: nil)
        do {
            _ = try await gate.evaluate(name: lonely, version: 1, requirements: try requirements("auc>=0.5"), snapshotID: nil, allowFirst: false)
            Issue.record("expected no snapshot of \(lonely)")
        } catch let error as GateError {
            #expect(error.code == .noSnapshot)
            #expect(error.message == "model '\(lonely)' has no snapshot in \(scratch.schema).snapshots (there are 4 snapshot(s) of other models); the gate evaluates on a labelled snapshot's holdout rows: export a snapshot of '\(lonely)' first, or name one with --snapshot ID")
        }
        try await scratch.drop()
    }

    @Test func aModelFeatureWithoutAColumnIsAnErrorNamingIt() async throws {
        let (scratch, snapshots, name) = try await setUp(productionVersion: 1)
        defer { snapshots.remove() }
        let csv = try GateFixtures.csv.replacingOccurrences(of: ",merchants_7d,", with: ",merchants_30d,")
        try await snapshots.add(scratch, id: "renamed", model: name, createdAt: "2026-03-01T00:00:00Z", csv: csv)
        let gate = try PromotionGate(registry: scratch.registry)
        do {
            _ = try await gate.promote(name: name, version: 2, to: .production, requirements: try requirements("auc>=0.5"), snapshotID: "renamed", allowFirst: false)
            Issue.record("expected a missing feature column")
        } catch let error as GateError {
            #expect(error.code == .cannotEvaluate)
            #expect(error.message.contains("model '\(name)' version 2 (candidate) uses 1 feature(s) the snapshot"))
            #expect(error.message.contains("has no column for: merchants_7d; its feature columns are: amount, country, merchants_30d, secs_since_last"))
        }
        #expect(try await scratch.registry.currentVersions(name: name) == (production: 1, shadow: nil))
        try await scratch.drop()
    }

    @Test func productionChangedAfterTheEvaluationRefusesThePromotion() async throws {
        let (scratch, snapshots, name) = try await setUp(productionVersion: 1)
        defer { snapshots.remove() }
        // The gate compared with version 1; meanwhile version 2 became production elsewhere.
        _ = try await scratch.registry.promote(name: name, version: 2)
        await expectRegistryError(.invalidTransition) {
            _ = try await scratch.registry.promote(name: name, version: 1, to: .production, expectedProduction: .some(2 - 1))
        }
        #expect(try await scratch.registry.currentVersions(name: name) == (production: 2, shadow: nil))
        // The expected version, and `none` when there is none.
        #expect(try await scratch.registry.promote(name: name, version: 1, expectedProduction: .some(2)).stage == .production)
        try await scratch.drop()
    }
}
