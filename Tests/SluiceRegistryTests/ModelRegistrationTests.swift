import Foundation
import SluiceInference
import SluicePostgres
import SluiceRegistry
import Testing

@Suite("Model registration", .timeLimit(.minutes(2)))
struct ModelRegistrationTests {
    @Test func eightConcurrentRegistrationsFromEightSessionsGetDistinctVersions() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let artifact = try Files.linear
        var sessions: [(PostgresConnection, ModelRegistry)] = []
        for _ in 0..<8 { sessions.append(try await scratch.secondRegistry()) }
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for (_, registry) in sessions {
                group.addTask { try await registry.register(name: name, artifact: artifact, format: .linearJSON, pipelineFeatures: nil).version }
            }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        #expect(versions == Array(1...8))
        let stored = try await scratch.registry.list(name: name).map(\.version)
        #expect(stored == Array(1...8))
        for (connection, _) in sessions { await connection.close() }
        try await scratch.drop()
    }

    @Test func aModelUsingFeaturesThePipelineLacksIsRefusedListingEveryMissingName() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let pipeline = Files.fraudFeatures.filter { $0 != "amount_std_7d" && $0 != "merchants_7d" } + ["last_country"]
        let error = await expectRegistryError(.featureMismatch) {
            _ = try await scratch.registry.register(name: name, artifact: try Files.bytes("examples/models/fraud-xgb.json"), format: .xgboostJSON,
                                                    pipelineFeatures: pipeline)
        }
        #expect(error?.message == "model '\(name)' uses 2 feature(s) the pipeline does not compute: amount_std_7d, merchants_7d; expected every model feature to be a pipeline feature (the pipeline computes: \(pipeline.joined(separator: ", ")))")
        #expect(try await scratch.registry.list(name: name).isEmpty, "nothing is stored")

        let accepted = try await scratch.registry.register(name: name, artifact: try Files.bytes("examples/models/fraud-xgb.json"), format: .xgboostJSON,
                                                           pipelineFeatures: Files.fraudFeatures + ["last_country"])
        #expect(accepted.featureNames == Files.fraudFeatures)
        #expect(accepted.version == 1, "a refused registration uses no version")
        try await scratch.drop()
    }

    @Test func bytesThatAreNoModelAreRefusedAtRegistration() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let registry = scratch.registry
        let garbage = await expectRegistryError(.invalidModel) {
            _ = try await registry.register(name: name, artifact: Array("hello, not a model".utf8), format: nil, pipelineFeatures: nil)
        }
        #expect(garbage?.message.hasPrefix("cannot register model '\(name)': the artifact (18 bytes) is not a model in one of the formats xgboost-json, lightgbm-text, linear-json:") == true)

        let xgb = try Files.bytes("examples/models/fraud-xgb.json")
        let truncated = await expectRegistryError(.invalidModel) {
            _ = try await registry.register(name: name, artifact: Array(xgb.prefix(xgb.count / 2)), format: .xgboostJSON, pipelineFeatures: nil)
        }
        #expect(truncated?.message.contains("is not a valid xgboost-json model") == true)

        await expectRegistryError(.invalidModel) {
            _ = try await registry.register(name: name, artifact: xgb, format: .lightgbmText, pipelineFeatures: nil)
        }
        await expectRegistryError(.invalidModel) {
            _ = try await registry.register(name: name, artifact: [], format: nil, pipelineFeatures: nil)
        }
        let stage = await expectRegistryError(.invalidModel) {
            _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, stage: .shadow, pipelineFeatures: nil)
        }
        #expect(stage?.message.contains("a new version starts in staging or production") == true)
        #expect(try await registry.list(name: name).isEmpty)
        try await scratch.drop()
    }

    @Test(arguments: ["", "fraud model", "fraud/v2", "fraud'; DROP TABLE models; --", "é", String(repeating: "m", count: 101)])
    func invalidNamesAreRefusedWithTheRule(name: String) async throws {
        let scratch = try await Scratch()
        let error = await expectRegistryError(.invalidName) {
            _ = try await scratch.registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        }
        #expect(error?.message.hasSuffix("expected 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-'") == true)
        await expectRegistryError(.invalidName) { _ = try await scratch.registry.currentVersions(name: name) }
        try await scratch.drop()
    }

    @Test func validNamesUpToTheLimitAreAccepted() throws {
        for name in ["a", "fraud-xgb_v2.1", String(repeating: "M", count: 100), "0.9"] {
            #expect(throws: Never.self) { try ModelRegistry.validate(name: name) }
        }
    }

    @Test func sha256IsTheStandardDigest() {
        #expect(ArtifactDigest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ArtifactDigest.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
