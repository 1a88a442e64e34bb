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
}
