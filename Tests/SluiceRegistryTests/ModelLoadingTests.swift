import Foundation
import SluiceInference
import SluicePostgres
import SluiceRegistry
import Testing

@Suite("Model loading and notifications", .timeLimit(.minutes(2)))
struct ModelLoadingTests {
    @Test(arguments: [("fraud-xgb.json", "fraud-xgb.cases.json"), ("fraud-lgb.txt", "fraud-lgb.cases.json")])
    func aLoadedModelPredictsExactlyAsTheFile(file: String, casesFile: String) async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let bytes = try Files.bytes("examples/models/\(file)")
        let cases = try ExampleCases(casesFile)
        _ = try await scratch.registry.register(name: name, artifact: bytes, format: nil, stage: .production,
                                                pipelineFeatures: Files.fraudFeatures)
        let (registered, model) = try #require(try await scratch.registry.load(name: name, stage: .production))
        #expect(registered.version == 1)
        #expect(model.featureNames == cases.feature_names)
        let fromFile = try ModelLoader.load(bytes: bytes)
        for (index, row) in cases.matrix.enumerated() {
            let prediction = model.predict(row: row)[0]
            #expect(prediction == fromFile.predict(row: row)[0], "row \(index)")
            #expect(abs(prediction - (cases.predictions[index][0] ?? .nan)) <= 1e-6, "row \(index) against the training library")
        }
        let pinned = try #require(try await scratch.registry.load(name: name, version: 1))
        #expect(pinned.0 == registered)
        #expect(try await scratch.registry.load(name: name, version: 2) == nil)
        try await scratch.drop()
    }

    @Test func anArtifactChangedAfterRegistrationIsRefusedNamingBothHashes() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let registered = try await scratch.registry.register(name: name, artifact: try Files.bytes("examples/models/fraud-lgb.txt"),
                                                             format: .lightgbmText, stage: .production, pipelineFeatures: nil)
        let changed = try await scratch.connection.execute("""
            UPDATE \(scratch.schema).models SET artifact = set_byte(artifact, 200, (get_byte(artifact, 200) + 1) % 256)
            WHERE name = $1 AND version = 1
            """, [name])
        #expect(changed == 1)
        let stored = try await scratch.connection.query("SELECT artifact FROM \(scratch.schema).models WHERE name = $1", [name])
        let actual = ArtifactDigest.sha256Hex(try stored[0].decode(PostgresBytea.self, column: 0).bytes)
        #expect(actual != registered.sha256)

        let error = await expectRegistryError(.corruptArtifact) { _ = try await scratch.registry.load(name: name, stage: .production) }
        #expect(error?.message.contains("has sha256 \(actual), but sha256 \(registered.sha256) was recorded at registration") == true)
        #expect(error?.version == 1)
        await expectRegistryError(.corruptArtifact) { _ = try await scratch.registry.load(name: name, version: 1) }
        try await scratch.drop()
    }

    @Test func promoteAndRollbackNotifyTheModelNameAndStagingChangesDoNot() async throws {
        let scratch = try await Scratch()
        let name = uniqueName()
        let listener = try await PostgresConnection.connect(url: try Scratch.url, logger: Scratch.logger)
        let stream = try await listener.listen(channel: ModelRegistry.notificationChannel)
        let registry = scratch.registry

        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)   // staging: silent
        _ = try await registry.promote(name: name, version: 1)                                                      // notifies
        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)   // silent
        _ = try await registry.register(name: name, artifact: try Files.linear, format: nil, pipelineFeatures: nil)   // silent
        _ = try await registry.archive(name: name, version: 3)                                                      // staging → archived: silent
        _ = try await registry.promote(name: name, version: 2)                                                      // notifies
        _ = try await registry.rollback(name: name)                                                                 // notifies
        await expectRegistryError(.invalidTransition) { _ = try await registry.promote(name: name, version: 1, to: .shadow) } // refused: silent
        let end = "\(name).end"
        try await scratch.connection.notify(channel: ModelRegistry.notificationChannel, payload: end)

        // Notifications from other tests share the channel; keep ours.
        let ours = try await collectNotifications(stream, until: end).filter { $0 == name }
        #expect(ours.count == 3, "one per promote and rollback, in commit order before the end marker")
        #expect(try await registry.currentVersions(name: name) == (production: 1, shadow: nil))
        await listener.close()
        try await scratch.drop()
    }
}
