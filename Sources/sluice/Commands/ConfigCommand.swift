import ArgumentParser
import SluiceConfiguration

/// `sluice config check FILE`: validate and print the effective configuration, secrets redacted.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with the configuration file.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a configuration file (with SLUICE_* overrides) and print the effective configuration, secrets redacted."
        )

        @Argument(help: "Configuration file.")
        var file: String

        func run() async throws {
            let config = try ConfigOptions(config: file).load()
            print(config.renderEffective(), terminator: "")
        }
    }
}

extension ConfigOptions {
    init(config: String) {
        self.init()
        self.config = config
    }
}
