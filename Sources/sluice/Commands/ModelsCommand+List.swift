import ArgumentParser
import SluiceInference
import SluiceRegistry
import SluiceService

extension ModelsCommand {
    /// `sluice models list [--name N] [--json]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List registered model versions, ordered by name and version."
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "Only the versions of this model.")
        var name: String?

        @Flag(help: "Print JSON: an array of versions.")
        var json = false

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let models = try await ModelsCommand.withRegistry(config, migrate: false) { try await $0.list(name: name) }
                if json {
                    print(try ModelsCommand.json(models.map { ModelJSON($0) }))
                    return
                }
                if models.isEmpty {
                    print(name.map { "no versions of model '\($0)' are registered" } ?? "no models are registered")
                    return
                }
                var rows = [["NAME", "VERSION", "STAGE", "FORMAT", "FEATURES", "SHA256", "CREATED", "DESCRIPTION"]]
                for model in models {
                    rows.append([model.name, "\(model.version)", model.stage.rawValue, model.format.rawValue, "\(model.featureNames.count)",
                                 String(model.sha256.prefix(12)), ModelsCommand.time(model.createdAtMillis), model.description ?? ""])
                }
                print(ModelsCommand.table(rows))
            }
        }
    }
}
