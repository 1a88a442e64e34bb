import Testing
@testable import SluiceConfiguration

@Suite struct PostgresSectionTests {
    @Test func synchronousCommitDefaultsToTrueAndCanBeTurnedOffInTheFileOrTheEnvironment() throws {
        let base = minimalSource + "\n" + minimalFeatures
        #expect(try load(base).config.postgres.synchronousCommit == true)
        #expect(try load("postgres: {synchronous_commit: false}\n" + base).config.postgres.synchronousCommit == false)
        #expect(try load(base, env: ["SLUICE_POSTGRES_SYNCHRONOUS_COMMIT": "false"]).config.postgres.synchronousCommit == false)
    }

    @Test func synchronousCommitRejectsNonBooleans() {
        let errors = loadErrors("postgres: {synchronous_commit: maybe}\n" + minimalSource + "\n" + minimalFeatures)
        let error = errors.errors.first { $0.path.description == "postgres.synchronous_commit" }
        #expect(error?.message.contains("expected true or false") == true)
    }
}
