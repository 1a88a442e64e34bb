/// Reads the keys of one YAML mapping (or of an absent one, giving defaults), applying environment overrides
/// and remembering which keys the schema knows so `finish()` can flag the rest with a "did you mean".
final class MappingReader {
    /// What reading one key produced.
    enum Outcome<Value> {
        /// Neither the file nor the environment set it (or it was `null`).
        case unset
        /// A valid value.
        case value(Value)
        /// A value was given but was refused; the error is already reported.
        case invalid

        var value: Value? {
            if case .value(let value) = self { return value }
            return nil
        }
    }

    let decoder: ConfigDecoder
    let path: ConfigPath
    /// The mapping node, or nil when the key was absent or `null`.
    let node: ConfigNode?
    private var entries: [ConfigNode.Entry] = []
    private var knownKeys: [String] = []

    init(decoder: ConfigDecoder, path: ConfigPath, node: ConfigNode?) {
        self.decoder = decoder
        self.path = path
        if let node, !node.isNull {
            if case .mapping(let entries) = node.kind {
                self.entries = entries
                self.node = node
            } else {
                decoder.report(.invalidValue, at: path, node: node, "expected a mapping of keys, found \(node.shapeName)")
                self.node = nil
            }
        } else {
            self.node = nil
        }
    }

    /// True when the mapping is written in the file.
    var isPresent: Bool { node != nil }

    /// The value node of `key` (nil when absent or `null`), marking the key as known.
    func entry(_ key: String) -> ConfigNode? {
        if !knownKeys.contains(key) {
            knownKeys.append(key)
        }
        guard let value = entries.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    /// The nested mapping under `key`.
    func section(_ key: String) -> MappingReader {
        MappingReader(decoder: decoder, path: path.key(key), node: entry(key))
    }

    /// Reads a scalar: the environment variable wins over the file; `secret` adds the `_FILE` variant and keeps
    /// the value out of messages.
    func read<Value>(_ key: String, _ parser: ValueParser<Value>, secret: Bool = false, fileVariant: Bool = true) -> Outcome<Value> {
        let keyPath = path.key(key)
        let node = entry(key)
        if let variable = keyPath.environmentName {
            let direct = decoder.variable(variable)
            let fileName = variable + "_FILE"
            let fromFile = secret && fileVariant ? decoder.variable(fileName) : nil
            if direct != nil, fromFile != nil {
                decoder.report(.invalidValue, at: keyPath, variable: fileName, "both \(variable) and \(fileName) are set; set only one")
                return .invalid
            }
            if let fromFile {
                switch decoder.readSecretFile(fromFile) {
                case .success(let text):
                    return parse(text, parser, path: keyPath, variable: fileName, node: nil)
                case .failure(let issue):
                    decoder.report(.unreadableFile, at: keyPath, variable: fileName, issue.message)
                    return .invalid
                }
            }
            if let direct {
                return direct.isEmpty ? .unset : parse(direct, parser, path: keyPath, variable: variable, node: nil)
            }
        }
        guard let node else { return .unset }
        guard case .scalar(let text, _) = node.kind else {
            decoder.report(.invalidValue, at: keyPath, node: node, "expected \(parser.expected), found \(node.shapeName)")
            return .invalid
        }
        return parse(text, parser, path: keyPath, variable: nil, node: node)
    }

    private func parse<Value>(
        _ text: String, _ parser: ValueParser<Value>, path: ConfigPath, variable: String?, node: ConfigNode?
    ) -> Outcome<Value> {
        switch parser.parse(text) {
        case .success(let value):
            return .value(value)
        case .failure(let issue):
            decoder.report(.invalidValue, at: path, variable: variable, node: node, issue.message)
            return .invalid
        }
    }

    /// A scalar with a default.
    func value<Value>(_ key: String, default fallback: Value, _ parser: ValueParser<Value>) -> Value {
        read(key, parser).value ?? fallback
    }

    /// An optional scalar (nil when unset or invalid).
    func optional<Value>(_ key: String, _ parser: ValueParser<Value>) -> Value? {
        read(key, parser).value
    }

    /// A required scalar: reports a missing-key error when unset and returns `placeholder` so decoding continues.
    func required<Value>(_ key: String, placeholder: Value, _ parser: ValueParser<Value>) -> Value {
        switch read(key, parser) {
        case .value(let value):
            return value
        case .invalid:
            return placeholder
        case .unset:
            reportMissing(key, expected: parser.expected)
            return placeholder
        }
    }

    /// Reports that `key` is required.
    func reportMissing(_ key: String, expected: String, reason: String? = nil) {
        let keyPath = path.key(key)
        var message = "missing required key; expected \(expected)"
        if let reason { message += " (\(reason))" }
        if let variable = keyPath.environmentName {
            message += "; set it in the file or with \(variable)"
        }
        decoder.report(.missingKey, at: keyPath, node: node, message)
    }

    /// A list of scalars from a YAML sequence (a single scalar counts as a one-item list) or from a
    /// comma-separated environment variable, which replaces the whole list.
    func list<Value>(_ key: String, _ parser: ValueParser<Value>) -> Outcome<[Value]> {
        let keyPath = path.key(key)
        let node = entry(key)
        if let variable = keyPath.environmentName, let text = decoder.variable(variable) {
            let items = text.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            if items.isEmpty { return .unset }
            var values: [Value] = []
            var failed = false
            for item in items {
                switch parser.parse(item) {
                case .success(let value): values.append(value)
                case .failure(let issue):
                    decoder.report(.invalidValue, at: keyPath, variable: variable, "item \(issue.message)")
                    failed = true
                }
            }
            return failed ? .invalid : .value(values)
        }
        guard let node else { return .unset }
        let items: [ConfigNode]
        switch node.kind {
        case .sequence(let nodes): items = nodes
        case .scalar: items = [node]
        case .mapping:
            decoder.report(.invalidValue, at: keyPath, node: node, "expected a list of \(parser.expected), found a mapping")
            return .invalid
        }
        var values: [Value] = []
        var failed = false
        for (index, item) in items.enumerated() {
            let itemPath = keyPath.index(index)
            guard case .scalar(let text, _) = item.kind, !item.isNull else {
                decoder.report(.invalidValue, at: itemPath, node: item, "expected \(parser.expected), found \(item.isNull ? "null" : item.shapeName)")
                failed = true
                continue
            }
            switch parser.parse(text) {
            case .success(let value): values.append(value)
            case .failure(let issue):
                decoder.report(.invalidValue, at: itemPath, node: item, issue.message)
                failed = true
            }
        }
        return failed ? .invalid : .value(values)
    }

    /// The entries of a user-keyed map under `key` (`fields`, `properties`), in file order, with each value's node.
    func mapEntries(_ key: String) -> (path: ConfigPath, entries: [ConfigNode.Entry]) {
        let keyPath = path.key(key)
        guard let node = entry(key) else { return (keyPath, []) }
        guard case .mapping(let entries) = node.kind else {
            decoder.report(.invalidValue, at: keyPath, node: node, "expected a mapping, found \(node.shapeName)")
            return (keyPath, [])
        }
        return (keyPath, entries)
    }

    /// Reports every key of the mapping that no reader asked for, suggesting the nearest known key.
    func finish() {
        for entry in entries where !knownKeys.contains(entry.key) {
            let suggestion = EditDistance.closest(to: entry.key, among: knownKeys)
            let message = suggestion.map { "unknown key; did you mean '\($0)'?" }
                ?? "unknown key; expected one of: \(knownKeys.joined(separator: ", "))"
            decoder.report(ConfigError(code: .unknownKey, path: path.key(entry.key).text, message: message,
                                       suggestion: suggestion, line: entry.keyLine, column: entry.keyColumn))
        }
    }
}

extension MappingReader.Outcome {
    /// True when a value was given (valid or not).
    var isSet: Bool {
        if case .unset = self { return false }
        return true
    }

    /// True when a value was given and refused.
    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}
