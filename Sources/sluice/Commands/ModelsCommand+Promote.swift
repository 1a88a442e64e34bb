import ArgumentParser
import SluiceInference
import SluiceRegistry

extension ModelsCommand {
    /// `sluice models promote NAME VERSION [--stage production|shadow]`.
    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote",
            abstract: "Move a version to production (the previous one is archived) or shadow (the previous one returns to staging).",
            discussion: "Workers swap models on the change (NOTIFY sluice_models). An archived version can be promoted again."
        )

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Model name.")
        var name: String

        @Argument(help: "Version number.")
        var version: Int

        @Option(help: "Target stage: production or shadow.")
        var stage: ModelStage = .production

        func validate() throws {
            guard stage.isServing else {
                throw ValidationError("--stage \(stage.rawValue): promote moves a version to production or shadow (use `sluice models archive` to retire one)")
            }
        }

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let model = try await ModelsCommand.withRegistry(config, migrate: true) { registry in
                    try await registry.promote(name: name, version: version, to: stage)
                }
                print(ModelsCommand.summary(model))
            }
        }
    }
}
