import ArgumentParser
import SluiceConfiguration
import Foundation
import Logging
import SluiceFeatureStore
import SluiceFeatures
import SluicePostgres

/// `sluice features get ENTITY [--as-of TIME] [--json]`: online features, or point in time from the feature log.
struct FeaturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Read features from the feature store.",
        subcommands: [Get.self]
    )

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Print an entity's latest features, or its features as of a time (from the feature log)."
        )

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Entity id.")
        var entity: String

        @Option(help: "Point in time (RFC 3339, e.g. 2026-01-02T03:04:05Z): the features of the last event at or before it.")
        var asOf: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let config = try options.load()
            CommandLogging.bootstrap(level: .warning)
            let logger = CommandLogging.logger("sluice.features")
            var asOfMillis: Int64? = nil
            if let asOf {
                guard let millis = RFC3339Timestamp.parseMillis(asOf) else {
                    throw ValidationError("--as-of '\(asOf)' is not an RFC 3339 timestamp such as 2026-01-02T03:04:05Z")
                }
                asOfMillis = millis
            }
            let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
            let store = try FeatureStore(connection: connection, schema: config.postgres.schema, group: config.kafka.group, logger: logger)
            let found: (eventTimeMillis: Int64, featuresJSON: String)?
            if let asOfMillis {
                found = try await store.features(entity: entity, asOfMillis: asOfMillis)
            } else {
                found = try await store.online(entity: entity)
            }
            await connection.close()
            guard let found else {
                FileHandle.standardError.write(Data("no features for entity '\(entity)'\(asOf.map { " at or before \($0)" } ?? "")\n".utf8))
                throw ExitCode(1)
            }
            if json {
                print("{\"entity\":\(jsonString(entity)),\"event_time\":\"\(formatRFC3339(millis: found.eventTimeMillis))\",\"features\":\(found.featuresJSON)}")
            } else {
                print("entity \(entity), as of event time \(formatRFC3339(millis: found.eventTimeMillis))")
                let object = (try? JSONSerialization.jsonObject(with: Data(found.featuresJSON.utf8))) as? [String: Any] ?? [:]
                for key in object.keys.sorted() { print("  \(key) = \(object[key].map { "\($0)" } ?? "null")") }
            }
        }

        private func jsonString(_ text: String) -> String {
            var writer = JSONOutputWriter()
            writer.string(text)
            return writer.string
        }
    }
}
