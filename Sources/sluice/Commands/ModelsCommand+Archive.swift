import ArgumentParser
import SluiceInference
import SluiceRegistry

extension ModelsCommand {
    /// `sluice models archive NAME VERSION`.
    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "archive",
            abstract: "Retire a version. Archiving the production version leaves the model without one until a promote."
        )

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Model name.")
        var name: String

        @Argument(help: "Version number.")
        var version: Int

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let model = try await ModelsCommand.withRegistry(config, migrate: true) { registry in
                    try await registry.archive(name: name, version: version)
                }
                print(ModelsCommand.summary(model))
            }
        }
    }
}
