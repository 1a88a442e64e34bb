/// Shared state of one load: collected errors, the environment and which variables the schema reads.
final class ConfigDecoder {
    private(set) var errors: [ConfigError] = []
    let environment: [String: String]
    /// Every variable name some key consulted, in schema order (for the unknown-variable check and hints).
    private(set) var knownVariables: [String] = []
    private var knownVariableSet: Set<String> = []
    /// Prefixes of map-entry variables (`SLUICE_KAFKA_PROPERTY_`).
    private(set) var knownPrefixes: [String] = []
    /// Variables that actually set a value (non-empty), for `sluice config check`.
    private(set) var appliedVariables: Set<String> = []
    private let readFile: (String) throws -> String

    init(environment: [String: String], readFile: @escaping (String) throws -> String) {
        self.environment = environment
        self.readFile = readFile
    }

    func report(_ error: ConfigError) {
        errors.append(error)
    }

    /// Reports a problem with a value taken from the file (`node`), an environment variable, or neither.
    func report(
        _ code: ConfigError.Code, at path: ConfigPath, variable: String? = nil, node: ConfigNode? = nil,
        _ message: String, suggestion: String? = nil
    ) {
        let label = variable.map { ConfigPath.environmentLabel($0, path) } ?? path.text
        report(ConfigError(code: code, path: label, message: message, suggestion: suggestion,
                           line: variable == nil ? node?.line : nil, column: variable == nil ? node?.column : nil))
    }

    /// Looks `name` up and remembers that the schema knows it.
    func variable(_ name: String) -> String? {
        if knownVariableSet.insert(name).inserted {
            knownVariables.append(name)
        }
        if let value = environment[name], !value.isEmpty {
            appliedVariables.insert(name)
        }
        return environment[name]
    }

    /// All variables starting with `prefix` (sorted by name), remembering the prefix as known.
    func variables(withPrefix prefix: String) -> [(name: String, suffix: String, value: String)] {
        if !knownPrefixes.contains(prefix) {
            knownPrefixes.append(prefix)
        }
        let names = environment.keys.filter { $0.hasPrefix(prefix) && $0.count > prefix.count }.sorted()
        appliedVariables.formUnion(names)
        return names.map {
            (name: $0, suffix: String($0.dropFirst(prefix.count)), value: environment[$0] ?? "")
        }
    }

    /// Reads a secret file, dropping one trailing newline (`\n` or `\r\n`) as `echo` and editors add it.
    func readSecretFile(_ path: String) -> Result<String, ValueIssue> {
        do {
            var text = try readFile(path)
            if text.hasSuffix("\r\n") {
                text.removeLast(1)  // "\r\n" is one Character
            } else if text.hasSuffix("\n") {
                text.removeLast()
            }
            return .success(text)
        } catch {
            return .failure(ValueIssue("cannot read file '\(path)': \(error)"))
        }
    }
}
