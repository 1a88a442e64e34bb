import Foundation
import SluiceInference
import SluiceMonitoring
import SluicePostgres
import SluiceRegistry
import Testing

/// Reference profiles stored with model versions in PostgreSQL.
@Suite("reference profiles in the registry", .timeLimit(.minutes(2)))
struct ReferenceStorageTests {
    static func profile(source: String = "reference.csv") throws -> ReferenceProfile {
        let table = try CSVTable.read(path: Files.url(ExpectedComparison.reference).path)
        return ReferenceProfile.build(source: source, columns: try ReferenceBuilder.inferredColumns(table: table))
    }

    @Test func storeReferenceThenReferenceRoundTripsTheProfileAndReplacesIt() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        _ = try await scratch.registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        _ = try await scratch.registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        #expect(try await scratch.registry.reference(name: name, version: 1) == nil, "registered without a reference")

        let profile = try Self.profile()
        try #require(profile.features.contains { $0.sample != nil } && profile.features.contains { $0.kind == .categorical })
        try await scratch.registry.storeReference(name: name, version: 1, profile: profile)
        #expect(try await scratch.registry.reference(name: name, version: 1) == profile)
        #expect(try await scratch.registry.reference(name: name, version: 2) == nil, "only version 1 got it")

        let (other, otherRegistry) = try await scratch.secondRegistry()
        #expect(try await otherRegistry.reference(name: name, version: 1) == profile, "another session reads the same profile")
        await other.close()

        let live = ReferenceProfile(source: "live:first-10000", features: [FeatureProfile.numerical(name: "score", values: [0.1, 0.2, 0.2, 0.9])])
        try await scratch.registry.storeReference(name: name, version: 1, profile: live)
        #expect(try await scratch.registry.reference(name: name, version: 1) == live)
        let stored = try await scratch.connection.query("SELECT json_typeof(reference), reference->>'source' FROM \(scratch.schema).models WHERE name = $1 AND version = 1", [name])
        #expect(try stored[0].decode(String.self, column: 0) == "object")
        #expect(try stored[0].decode(String.self, column: 1) == "live:first-10000")
        try await scratch.drop()
    }

    @Test func unknownVersionsAndModelsAreNotFound() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        _ = try await scratch.registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        let profile = try Self.profile()
        let version = await expectRegistryError(.notFound) { try await scratch.registry.storeReference(name: name, version: 4, profile: profile) }
        #expect(version?.message == "model '\(name)' has no version 4; its versions are 1")
        await expectRegistryError(.notFound) { _ = try await scratch.registry.reference(name: name, version: 2) }
        let model = await expectRegistryError(.notFound) { _ = try await scratch.registry.reference(name: "nobody", version: 1) }
        #expect(model?.message.hasPrefix("model 'nobody' is not registered") == true)
        await expectRegistryError(.invalidName) { _ = try await scratch.registry.reference(name: "bad name", version: 1) }
        try await scratch.drop()
    }

    @Test func registerStoresTheBuiltReferenceWithTheVersionAndABuildFailureRegistersNothing() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let artifact = try Files.bytes("examples/models/fraud-xgb.json")
        let table = try CSVTable.read(path: Files.url(ExpectedComparison.reference).path)
        let registered = try await scratch.registry.register(
            name: name, artifact: artifact, format: nil, stage: .production, pipelineFeatures: Files.fraudFeatures,
            reference: { model in
                try ReferenceBuilder.modelReference(table: table, pipelineFeatures: examplePipeline, categorical: ["last_country"],
                                                    model: model, modelName: name, source: "reference.csv")
            })
        let stored = try #require(try await scratch.registry.reference(name: name, version: registered.version))
        #expect(stored.features.map(\.name) == examplePipeline + ["score"])
        #expect(stored.source == "reference.csv")

        let bad = try CSVTable(name: "bad.csv", text: Files.fraudFeatures.joined(separator: ",") + "\n" + Files.fraudFeatures.map { _ in "x" }.joined(separator: ",") + "\n")
        do {
            _ = try await scratch.registry.register(
                name: name, artifact: artifact, format: nil, pipelineFeatures: Files.fraudFeatures,
                reference: { model in
                    try ReferenceBuilder.modelReference(table: bad, pipelineFeatures: Files.fraudFeatures, categorical: [], model: model,
                                                        modelName: name, source: "bad.csv")
                })
            Issue.record("a reference that cannot be built must fail the registration")
        } catch let error as ReferenceError {
            #expect(error.line == 2 && error.column == "amount")
        }
        #expect(try await scratch.registry.list(name: name).map(\.version) == [1], "no version 2 without its reference")

        // The model is checked before the reference is built: a feature mismatch is reported as such.
        let checked = await expectRegistryError(.featureMismatch) {
            _ = try await scratch.registry.register(name: name, artifact: artifact, format: nil, pipelineFeatures: ["amount"],
                                                    reference: { _ in throw ReferenceError("must not be built") })
        }
        #expect(checked?.message.contains("txn_count_1h") == true)
        try await scratch.drop()
    }
}
