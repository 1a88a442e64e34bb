import ArgumentParser
import SluiceConfiguration
import SluiceFeatureStore
import SluicePostgres

/// `sluice migrate`: apply the feature store's schema migrations (also done by `sluice run` at start-up).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the feature store's versioned schema migrations to PostgreSQL."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.load()
        CommandLogging.bootstrap(level: config.logLevel)
        let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: CommandLogging.logger("sluice.migrate"))
        let applied = try await FeatureStoreMigrations.migrate(connection, schema: config.postgres.schema)
        print(applied.isEmpty ? "schema \(config.postgres.schema) is up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", ")) to schema \(config.postgres.schema)")
        await connection.close()
    }
}
