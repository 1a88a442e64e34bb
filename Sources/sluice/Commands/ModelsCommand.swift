import ArgumentParser
import Foundation
import Logging
import SluiceConfiguration
import SluiceFeatureStore
import SluiceInference
import SluicePostgres
import SluiceRegistry

/// `sluice models …`: the model registry from the command line (docs/models.md).
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Register, list, promote, roll back and archive models in the registry; score a CSV file offline.",
        subcommands: [Register.self, List.self, Show.self, Promote.self, Rollback.self, Archive.self, Score.self]
    )
}

extension ModelsCommand {
    /// Runs `body` with a registry on the configured PostgreSQL schema, then closes the session.
    ///
    /// Commands that change the registry first apply the feature store's migrations (as `sluice run` does at
    /// start-up), so a model can be registered before any worker ran; reading commands never change the schema.
    static func withRegistry<T>(_ config: SluiceConfig, migrate: Bool,
                                _ body: (ModelRegistry) async throws -> T) async throws -> T {
        let logger = CommandLogging.logger("sluice.models")
        let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
        do {
            if migrate {
                try await FeatureStoreMigrations.migrate(connection, schema: config.postgres.schema)
            }
            let registry = try ModelRegistry(connection: connection, schema: config.postgres.schema, logger: logger)
            let value = try await body(registry)
            await connection.close()
            return value
        } catch let error as PostgresError where error.sqlState == "42P01" {
            await connection.close()
            throw ModelsCommandError("schema \(config.postgres.schema) has no model registry yet: run `sluice migrate` (or register a model) first")
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Runs a subcommand's work: any failure becomes one line `error: …` on standard error and exit status 1
    /// (configuration problems keep their own report and status 2).
    static func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            let text = "\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
            FileHandle.standardError.write(Data("error: \(text)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// Loads the configuration with logging at warnings (the commands print their own results).
    static func loadConfig(_ options: ConfigOptions) throws -> SluiceConfig {
        let config = try options.load()
        CommandLogging.bootstrap(level: .warning)
        return config
    }
}

/// A failure of a `sluice models` command that is not the registry's or the database's.
struct ModelsCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ModelFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension ModelStage: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
