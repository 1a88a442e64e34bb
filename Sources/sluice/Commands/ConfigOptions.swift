import ArgumentParser
import Foundation
import Logging
import SluiceConfiguration

/// `--config FILE` shared by the commands that read the worker configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $SLUICE_CONFIG, else config/sluice.yaml).")
    var config: String?

    var path: String {
        config ?? ProcessInfo.processInfo.environment["SLUICE_CONFIG"] ?? "config/sluice.yaml"
    }

    /// Loads and validates the configuration; prints every problem with its path and exits non-zero.
    func load() throws -> SluiceConfig {
        do {
            // Variables of the scripts and tests, not configuration keys.
            let environment = ProcessInfo.processInfo.environment.filter { key, _ in
                !key.hasPrefix("SLUICE_TEST_") && !["SLUICE_KAFKA_CONTROL_PORT", "SLUICE_BIN", "SLUICE_PYTHON"].contains(key)
            }
            let result = try SluiceConfig.load(path: path, environment: environment)
            for warning in result.warnings {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
            return result.config
        } catch {
            FileHandle.standardError.write(Data("invalid configuration \(path):\n\(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

extension SluiceConfig {
    /// The swift-log level the configuration asks for.
    var logLevel: Logger.Level {
        Logger.Level(rawValue: logging.level.rawValue) ?? .info
    }
}
