import ArgumentParser
import SluiceRegistry

extension ModelsCommand {
    /// `sluice models rollback NAME`.
    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback",
            abstract: "Put back in production the version that was production before the current one; archive the current one."
        )

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Model name.")
        var name: String

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let (from, to) = try await ModelsCommand.withRegistry(config, migrate: true) { try await $0.rollback(name: name) }
                print("\(name): production rolled back from version \(from) (now archived) to version \(to)")
            }
        }
    }
}
