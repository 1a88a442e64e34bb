import Foundation
import SluiceEvaluation
import SluiceRegistry
import Testing

/// `sluice models promote --require …` run as a separate process against a real PostgreSQL.
@Suite("sluice models promote --require", .timeLimit(.minutes(2)))
struct PromoteCommandTests {
    typealias Run = ModelsCommandTests.Run

    /// A scratch schema with `linear_weak` as version 1 and `xgb_strong` as version 2, production as asked, one
    /// snapshot of the model; and the arguments and environment that point `sluice` at it.
    struct Setup {
        let scratch: Scratch
        let snapshots: SnapshotDirectory
        let name: String

        init(production: Int?) async throws {
            scratch = try await Scratch()
            name = uniqueName("gate")
            _ = try await scratch.registry.register(name: name, artifact: try GateFixtures.linearWeak, format: nil, pipelineFeatures: nil)
            _ = try await scratch.registry.register(name: name, artifact: try GateFixtures.xgbStrong, format: nil, pipelineFeatures: nil)
            if let production { _ = try await scratch.registry.promote(name: name, version: production) }
            snapshots = try SnapshotDirectory()
            try await snapshots.add(scratch, id: "snap-1", model: name, createdAt: "2026-01-08T00:00:00Z", csv: try GateFixtures.csv)
        }

        func promote(_ arguments: [String]) throws -> Run {
            try ModelsCommandTests.sluice(["models", "promote", "--config", "config/sluice.yaml", name] + arguments,
                                          environment: ["SLUICE_POSTGRES_URL": try Scratch.url, "SLUICE_POSTGRES_SCHEMA": scratch.schema])
        }

        func finish() async throws {
            snapshots.remove()
            try await scratch.drop()
        }
    }

    static func requireBinary() throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
    }

    @Test func aPassingGatePrintsTheTableAndPromotes() async throws {
        try Self.requireBinary()
        let setup = try await Setup(production: 1)
        let run = try setup.promote(["2", "--require", "auc>=0.8", "--require", "logloss<=production", "--require", "auc >= production-0.01"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "promotion gate: \(setup.name) version 2 → production")
        #expect(lines.contains { $0.hasPrefix("snapshot snap-1 (created 2026-01-08T00:00:00Z): 60 holdout rows of \(setup.snapshots.root.path)/snap-1/data.csv") })
        #expect(lines.contains("candidate: version 2 (xgboost-json, staging); production: version 1 (linear-json)"))
        let header = try #require(lines.first { $0.hasPrefix("METRIC") })
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["METRIC", "CANDIDATE", "PRODUCTION", "REQUIREMENT", "RESULT"])
        let auc = try #require(lines.first { $0.hasPrefix("auc ") && $0.contains("auc>=0.8") })
        #expect(auc.hasSuffix("pass"))
        #expect(auc.contains("0.932897"), "candidate AUC to six decimals: \(auc)")
        #expect(auc.contains("0.783961"), "production AUC to six decimals: \(auc)")
        #expect(lines.contains { $0.contains("auc >= production-0.01 (>= 0.773961)") && $0.hasSuffix("pass") })
        #expect(lines.last(where: { !$0.isEmpty })?.hasPrefix("\(setup.name) version 2 (xgboost-json, 3 features, sha256 ") == true)
        #expect(lines.last(where: { !$0.isEmpty })?.hasSuffix(") is now production") == true)
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: 2, shadow: nil))
        try await setup.finish()
    }

    @Test func aRefusedPromotionExitsWith3AndNamesBothFigures() async throws {
        try Self.requireBinary()
        let setup = try await Setup(production: 2)
        let run = try setup.promote(["1", "--require", "auc>=0.7", "--require", "logloss<=production"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stdout.contains("logloss<=production"))
        #expect(!run.stdout.contains("is now production"))
        let stderr = run.stderr.split(separator: "\n").map(String.init)
        #expect(stderr.count == 2, "\(run.stderr)")
        #expect(stderr.first == "refused: 1 of 2 requirement(s) not met, so \(setup.name) version 1 was not promoted to production (it stays staging; version 2 stays production)")
        let expected = try GateFixtures.expected
        let candidate = String(format: "%.6f", expected.holdout["linear_weak"]?["logloss"] ?? .nan)
        let production = String(format: "%.6f", expected.holdout["xgb_strong"]?["logloss"] ?? .nan)
        #expect(stderr.last == "  logloss<=production: candidate logloss \(candidate) is not <= \(production) (production \(production))")
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: 2, shadow: nil))
        #expect(try await setup.scratch.registry.show(name: setup.name, version: 1)?.stage == .staging)

        // The same as JSON: promoted false, both figures per requirement, still status 3.
        let json = try setup.promote(["1", "--require", "auc>=0.7", "--require", "logloss<=production", "--json"])
        #expect(json.status == 3)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["promoted"] as? Bool == false)
        #expect((object["model"] as? [String: Any])?["stage"] as? String == "staging")
        let gate = try #require(object["gate"] as? [String: Any])
        #expect(gate["passed"] as? Bool == false)
        #expect((gate["snapshot"] as? [String: Any])?["rows"] as? String == "holdout")
        #expect((gate["snapshot"] as? [String: Any])?["rows_evaluated"] as? Int == 60)
        #expect((gate["production"] as? [String: Any])?["version"] as? Int == 2)
        let requirements = try #require(gate["requirements"] as? [[String: Any]])
        #expect(requirements.map { $0["result"] as? String } == ["pass", "fail"])
        let logloss = requirements[1]
        #expect(abs((logloss["candidate"] as? Double ?? .nan) - (expected.holdout["linear_weak"]?["logloss"] ?? .nan)) <= 1e-6)
        #expect(abs((logloss["production"] as? Double ?? .nan) - (expected.holdout["xgb_strong"]?["logloss"] ?? .nan)) <= 1e-6)
        #expect(logloss["operator"] as? String == "<=")
        #expect((logloss["reason"] as? String)?.hasPrefix("candidate logloss") == true)
        try await setup.finish()
    }

    @Test func withoutProductionARelativeRequirementNeedsAllowFirst() async throws {
        try Self.requireBinary()
        let setup = try await Setup(production: nil)
        let refused = try setup.promote(["2", "--require", "auc>=0.8", "--require", "logloss<=production"])
        #expect(refused.status == 3)
        #expect(refused.stdout.contains("production: none"))
        #expect(refused.stdout.contains("note: model '\(setup.name)' has no production version to compare with; pass --allow-first"))
        #expect(refused.stderr.contains("there is still no production version"))
        #expect(refused.stderr.contains("logloss<=production: it compares with the production version, and there is none (pass --allow-first"))
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: nil, shadow: nil))

        let first = try setup.promote(["2", "--require", "auc>=0.8", "--require", "logloss<=production", "--allow-first", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        #expect(object["promoted"] as? Bool == true)
        let gate = try #require(object["gate"] as? [String: Any])
        #expect(gate["production"] is NSNull)
        let requirements = try #require(gate["requirements"] as? [[String: Any]])
        #expect(requirements.map { $0["result"] as? String } == ["pass", "skipped"])
        #expect(requirements[1]["production"] is NSNull)
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: 2, shadow: nil))
        try await setup.finish()
    }

    @Test func badRequireTextIsAUsageErrorNamingTheTextAndTheForm() async throws {
        try Self.requireBinary()
        let setup = try await Setup(production: 1)
        let run = try setup.promote(["2", "--require", "auc=>0.8"])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--require \"auc=>0.8\": \"=>\" is not a comparison operator; expected METRIC OP VALUE"))
        #expect(run.stderr.contains("e.g. \"auc>=0.8\", \"logloss<=production\", \"auc>=production-0.01\""))
        let unknown = try setup.promote(["2", "--require", "gini>=0.5"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown metric \"gini\""))
        let stray = try setup.promote(["2", "--snapshot", "snap-1"])
        #expect(stray.status == 64)
        #expect(stray.stderr.contains("--snapshot only applies to a gated promotion"))
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: 1, shadow: nil))
        try await setup.finish()
    }

    @Test func aMissingSnapshotIsAnErrorAndPromoteWithoutRequireIsUnchanged() async throws {
        try Self.requireBinary()
        let setup = try await Setup(production: 1)
        let missing = try setup.promote(["2", "--require", "auc>=0.8", "--snapshot", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: there is no snapshot 'nope' in \(setup.scratch.schema).snapshots; expected the snapshot_id of an exported snapshot (or leave out --snapshot to use the newest snapshot of model '\(setup.name)')\n")
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: 1, shadow: nil))

        let explicit = try setup.promote(["2", "--require", "auc>=0.8", "--snapshot", "snap-1"])
        #expect(explicit.status == 0, "\(explicit.stderr)")

        // No --require: no snapshot needed, the one-line summary as before.
        let plain = try setup.promote(["1"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.hasPrefix("\(setup.name) version 1 (linear-json, 1 features, sha256 "))
        #expect(plain.stdout.hasSuffix(") is now production\n"))
        #expect(try await setup.scratch.registry.currentVersions(name: setup.name) == (production: 1, shadow: nil))
        try await setup.finish()
    }
}
