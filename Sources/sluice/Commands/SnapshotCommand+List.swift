import ArgumentParser
import SluiceConfiguration
import SluiceFeatures
import SluiceRegistry
import SluiceService
import SluiceSnapshots

extension SnapshotCommand {
    /// `sluice snapshot list [--model NAME] [--limit N] [--json] [--config FILE]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List the snapshots taken, newest first."
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "Only snapshots of this model.")
        var model: String?

        @Option(help: "At most this many snapshots.")
        var limit: Int?

        @Flag(help: "Print JSON: an array of snapshots.")
        var json = false

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit \(limit) is out of range; expected a positive number of snapshots") }
        }

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                if let model { try ModelRegistry.validate(name: model) }
                let entries = try await SnapshotCommand.withConnection(config) { connection in
                    try await SnapshotListing(connection: connection, schema: config.postgres.schema).list(model: model, limit: limit)
                }
                if json {
                    print(try ModelsCommand.json(entries.map(SnapshotCommand.EntryJSON.init)))
                    return
                }
                if entries.isEmpty {
                    print(model.map { "no snapshots of model '\($0)' in schema \(config.postgres.schema)" } ?? "no snapshots in schema \(config.postgres.schema)")
                    return
                }
                var rows = [["SNAPSHOT", "CREATED", "REASON", "MODEL", "VERSION", "ROWS", "HOLDOUT", "DIRECTORY"]]
                for entry in entries {
                    rows.append([entry.snapshotID, ModelsCommand.time(entry.createdAtMillis), entry.reason, entry.modelName ?? "-",
                                 entry.modelVersion.map(String.init) ?? "-", "\(entry.rows)", "\(entry.holdoutRows)", entry.directory])
                }
                print(ModelsCommand.table(rows))
            }
        }
    }
}
