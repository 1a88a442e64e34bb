import ArgumentParser

/// The `sluice` command line.
@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A streaming feature and inference worker: Kafka in, features in PostgreSQL, scores and drift alerts out.",
        subcommands: [
            RunCommand.self,
            MigrateCommand.self,
            FeaturesCommand.self,
            ModelsCommand.self,
            DriftCommand.self,
            SnapshotCommand.self,
            ConfigCommand.self,
            ProduceDemoCommand.self,
            DemoLabelsCommand.self,
            DevClusterCommand.self,
            BenchCommand.self,
        ]
    )

    /// ArgumentParser's entry point, after the process-wide malloc setting (before any thread starts).
    static func main() async {
        MallocArenas.limit()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
