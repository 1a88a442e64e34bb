import ArgumentParser

/// `sluice bench …`: measured figures for the README and closing notes.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks against the dev cluster and PostgreSQL.",
        subcommands: [KafkaBenchCommand.self, WorkerBenchCommand.self, PipelineBenchCommand.self, PipelineProducerCommand.self, PipelineProbeCommand.self]
    )
}
