import ArgumentParser
import SluiceInference
import SluiceRegistry
import SluiceService

extension ModelsCommand {
    /// `sluice models show NAME VERSION [--json]`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Show one model version: format, sha256, features, stage and its stage history."
        )

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Model name.")
        var name: String

        @Argument(help: "Version number.")
        var version: Int

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let (found, history) = try await ModelsCommand.withRegistry(config, migrate: false) { registry in
                    (try await registry.show(name: name, version: version), try await registry.history(name: name))
                }
                guard let model = found else {
                    let versions = Set(history.map(\.version)).sorted()
                    throw RegistryError(.notFound, versions.isEmpty
                        ? "model '\(name)' is not registered (expected a name shown by `sluice models list`)"
                        : "model '\(name)' has no version \(version); its versions are \(versions.map(String.init).joined(separator: ", "))",
                        name: name, version: version)
                }
                let changes = history.filter { $0.version == version }
                if json {
                    print(try ModelsCommand.json(ModelJSON(model, history: changes)))
                    return
                }
                print(ModelsCommand.table([
                    ["name", model.name],
                    ["version", "\(model.version)"],
                    ["stage", model.stage.rawValue],
                    ["format", model.format.rawValue],
                    ["sha256", model.sha256],
                    ["outputs", "\(model.outputCount)"],
                    ["created", ModelsCommand.time(model.createdAtMillis)],
                    ["stage changed", ModelsCommand.time(model.stageChangedAtMillis)],
                    ["description", model.description ?? ""],
                    ["features", "\(model.featureNames.count): \(model.featureNames.joined(separator: ", "))"],
                ]))
                print("history:")
                print(ModelsCommand.table(changes.map { ["  " + ModelsCommand.time($0.changedAtMillis), ($0.from?.rawValue ?? "registered"), "→", $0.to.rawValue] }))
            }
        }
    }
}
