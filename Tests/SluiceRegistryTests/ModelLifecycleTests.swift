import SluiceInference
import SluicePostgres
import SluiceRegistry
import Testing

@Suite("Model registry life cycle", .timeLimit(.minutes(2)))
struct ModelLifecycleTests {
    @Test func registerPromoteRegisterPromoteRollbackArchive() async throws {
        let scratch = try await Scratch()
        let registry = scratch.registry
        let name = uniqueName()
        let artifact = try Files.linear

        let v1 = try await registry.register(name: name, artifact: artifact, format: .linearJSON, pipelineFeatures: Files.linearFeatures,
                                             description: "first")
        #expect(v1.version == 1)
        #expect(v1.stage == .staging)
        #expect(v1.format == .linearJSON)
        #expect(v1.featureNames == Files.linearFeatures)
        #expect(v1.outputCount == 1)
        #expect(v1.description == "first")
        #expect(v1.sha256 == ArtifactDigest.sha256Hex(artifact))
        #expect(v1.createdAtMillis > 1_700_000_000_000)
        #expect(try await registry.currentVersions(name: name) == (production: nil, shadow: nil))
        #expect(try await registry.load(name: name, stage: .production) == nil)

        let promoted = try await registry.promote(name: name, version: 1)
        #expect(promoted.stage == .production)
        #expect(promoted.stageChangedAtMillis >= v1.stageChangedAtMillis)
        #expect(try await registry.currentVersions(name: name) == (production: 1, shadow: nil))

        let v2 = try await registry.register(name: name, artifact: artifact, format: nil, pipelineFeatures: nil)
        #expect(v2.version == 2)
        #expect(v2.stage == .staging)
        #expect(v2.format == .linearJSON, "detected from the bytes")
        #expect(v2.description == nil)
        #expect(try await registry.load(name: name, stage: .staging)?.0.version == 2, "the newest staging version")
        #expect(try await registry.promote(name: name, version: 2, to: .production).stage == .production)
        #expect(try await registry.show(name: name, version: 1)?.stage == .archived)
        #expect(try await registry.currentVersions(name: name) == (production: 2, shadow: nil))

        let rolledBack = try await registry.rollback(name: name)
        #expect(rolledBack == (from: 2, to: 1))
        #expect(try await registry.list(name: name).map(\.stage) == [.production, .archived])
        #expect(try await registry.load(name: name, stage: .production)?.0.version == 1)

        let archived = try await registry.archive(name: name, version: 1)
        #expect(archived.stage == .archived)
        #expect(try await registry.currentVersions(name: name) == (production: nil, shadow: nil))
        #expect(try await registry.list(name: name).map(\.stage) == [.archived, .archived])

        let history = try await registry.history(name: name).map { "\($0.version):\($0.from?.rawValue ?? "-")>\($0.to.rawValue)" }
        #expect(history == ["1:->staging", "1:staging>production", "2:->staging", "1:production>archived", "2:staging>production",
                            "2:production>archived", "1:archived>production", "1:production>archived"])

        let error = await expectRegistryError(.invalidTransition) { _ = try await registry.rollback(name: name) }
        #expect(error?.message.contains("no production version") == true)
        try await scratch.drop()
    }

    @Test func rollingBackTwiceReturnsToWhereItStarted() async throws {
        let scratch = try await Scratch()
        let registry = scratch.registry
        let name = uniqueName()
        for _ in 0..<3 {
            _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, stage: .production, pipelineFeatures: nil)
        }
        #expect(try await registry.currentVersions(name: name).production == 3)
        #expect(try await registry.rollback(name: name) == (from: 3, to: 2))
        #expect(try await registry.rollback(name: name) == (from: 2, to: 3))
        #expect(try await registry.list(name: name).map(\.stage) == [.archived, .archived, .production])
        try await scratch.drop()
    }

    @Test func rollbackWithoutAnEarlierProductionVersionIsRefused() async throws {
        let scratch = try await Scratch()
        let registry = scratch.registry
        let name = uniqueName()
        let missing = await expectRegistryError(.notFound) { _ = try await registry.rollback(name: name) }
        #expect(missing?.message == "cannot roll back model '\(name)': no such model is registered (see `sluice models list`)")

        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        let noProduction = await expectRegistryError(.invalidTransition) { _ = try await registry.rollback(name: name) }
        #expect(noProduction?.message.contains("has no production version to roll back from") == true)

        _ = try await registry.promote(name: name, version: 2)
        let only = await expectRegistryError(.invalidTransition) { _ = try await registry.rollback(name: name) }
        #expect(only?.message.contains("version 2 is the only version that has been in production") == true)
        #expect(try await registry.currentVersions(name: name).production == 2, "a refused rollback changes nothing")
        try await scratch.drop()
    }

    @Test func shadowPromotionKeepsOneShadowAndNeverTheProductionVersion() async throws {
        let scratch = try await Scratch()
        let registry = scratch.registry
        let name = uniqueName()
        let v1 = try await registry.register(name: name, artifact: try Files.linear, format: nil, stage: .production, pipelineFeatures: nil)
        #expect(v1.stage == .production)
        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)

        #expect(try await registry.promote(name: name, version: 2, to: .shadow).stage == .shadow)
        #expect(try await registry.currentVersions(name: name) == (production: 1, shadow: 2))
        #expect(try await registry.promote(name: name, version: 3, to: .shadow).stage == .shadow)
        #expect(try await registry.currentVersions(name: name) == (production: 1, shadow: 3))
        #expect(try await registry.show(name: name, version: 2)?.stage == .staging, "the previous shadow goes back to staging")
        #expect(try await registry.load(name: name, stage: .shadow)?.0.version == 3)
        #expect(try await registry.promote(name: name, version: 3, to: .shadow).stage == .shadow, "promoting to the same stage is a no-op")

        let both = await expectRegistryError(.invalidTransition) { _ = try await registry.promote(name: name, version: 1, to: .shadow) }
        #expect(both?.message.contains("it is the production version") == true)
        await expectRegistryError(.invalidTransition) { _ = try await registry.promote(name: name, version: 2, to: .archived) }

        // The challenger wins: shadow → production archives the champion and leaves no shadow.
        #expect(try await registry.promote(name: name, version: 3).stage == .production)
        #expect(try await registry.currentVersions(name: name) == (production: 3, shadow: nil))
        #expect(try await registry.show(name: name, version: 1)?.stage == .archived)

        // Registering straight to production archives the current production version.
        let v4 = try await registry.register(name: name, artifact: try Files.linear, format: nil, stage: .production, pipelineFeatures: nil)
        #expect(v4.version == 4)
        #expect(try await registry.list(name: name).map(\.stage) == [.archived, .staging, .archived, .production])

        // An archived version can come back.
        #expect(try await registry.promote(name: name, version: 1).stage == .production)
        #expect(try await registry.currentVersions(name: name) == (production: 1, shadow: nil))
        try await scratch.drop()
    }

    @Test func unknownVersionsAreNamedWithTheVersionsThatExist() async throws {
        let scratch = try await Scratch()
        let registry = scratch.registry
        let name = uniqueName()
        let unknownName = await expectRegistryError(.notFound) { _ = try await registry.promote(name: name, version: 1) }
        #expect(unknownName?.message.contains("is not registered") == true)
        for _ in 0..<3 { _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil) }
        _ = try await registry.register(name: "other-\(name)", artifact: try Files.linear, format: nil, pipelineFeatures: nil)
        let error = await expectRegistryError(.notFound) { _ = try await registry.archive(name: name, version: 7) }
        #expect(error?.message == "model '\(name)' has no version 7; its versions are 1-3")
        #expect(try await registry.show(name: name, version: 7) == nil)
        #expect(try await registry.list().map { "\($0.name)/\($0.version)" } == ["\(name)/1", "\(name)/2", "\(name)/3", "other-\(name)/1"])
        #expect(try await registry.list(name: name).count == 3)
        try await scratch.drop()
    }

    @Test func concurrentCallsOnOneRegistryShareItsSession() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let artifact = try Files.linear
        let registry = scratch.registry
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { try await registry.register(name: name, artifact: artifact, format: nil, pipelineFeatures: nil).version }
                group.addTask { _ = try await registry.list(name: name); return 0 }
            }
            return try await group.reduce(into: []) { $0.append($1) }.filter { $0 > 0 }.sorted()
        }
        #expect(versions == Array(1...8))
        try await scratch.drop()
    }
}
