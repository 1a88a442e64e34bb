import Foundation

extension SluiceConfig {
    /// Loads the configuration file at `path`, applying `environment` overrides.
    ///
    /// - Throws: `ConfigErrors`; an unreadable file is reported as one error with `path` "config file".
    package static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> ConfigLoadResult {
        let text: String
        do {
            text = try readTextFile(path)
        } catch {
            throw ConfigErrors([ConfigError(
                code: .unreadableFile, path: "config file",
                message: "cannot read '\(path)': \(error.localizedDescription); expected a readable YAML file")])
        }
        return try load(yamlText: text, environment: environment)
    }

    /// Reads a UTF-8 text file; the default reader for secret files.
    package static func readTextFile(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError(code: .unreadableFile, path: path, message: "file is not valid UTF-8")])
        }
        return text
    }
}
