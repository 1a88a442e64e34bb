import Yams

/// The YAML document as a plain tree with file positions, independent of Yams' types.
struct ConfigNode {
    /// One `key: value` pair of a mapping, in file order.
    struct Entry {
        var key: String
        var keyLine: Int?
        var keyColumn: Int?
        var value: ConfigNode
    }

    enum Kind {
        /// A scalar's text; `plain` is false for quoted and block scalars (so `"null"` stays a string).
        case scalar(String, plain: Bool)
        case mapping([Entry])
        case sequence([ConfigNode])
    }

    var kind: Kind
    var line: Int?
    var column: Int?

    /// Plain `null`, `~` or an empty plain scalar: "not set".
    var isNull: Bool {
        if case .scalar(let text, plain: true) = kind {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    /// A short name of the node's shape for messages ("a mapping", "a list", "a scalar").
    var shapeName: String {
        switch kind {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }

    /// Parses YAML text; syntax errors come back with line and column.
    static func parse(yaml text: String) -> Result<ConfigNode?, ConfigError> {
        let root: Node?
        do {
            // The basic resolver skips Yams' regex-based tag resolution: every scalar is read as text and typed by the schema.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            return .failure(syntaxError(error))
        } catch {
            return .failure(ConfigError(code: .syntax, path: "", message: "YAML syntax error: \(error)"))
        }
        guard let root else { return .success(nil) }
        var problems: [ConfigError] = []
        let node = convert(root, problems: &problems)
        if let first = problems.first {
            return .failure(first)
        }
        return .success(node)
    }

    private static func convert(_ node: Node, problems: inout [ConfigError]) -> ConfigNode {
        let line = node.mark?.line
        let column = node.mark?.column
        switch node {
        case .scalar(let scalar):
            return ConfigNode(kind: .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any),
                              line: line, column: column)
        case .sequence(let sequence):
            return ConfigNode(kind: .sequence(sequence.map { convert($0, problems: &problems) }), line: line, column: column)
        case .mapping(let mapping):
            var entries: [Entry] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    problems.append(ConfigError(
                        code: .syntax, path: "", message: "mapping keys must be plain strings, found a \(key.tag.description) key",
                        line: key.mark?.line, column: key.mark?.column))
                    continue
                }
                entries.append(Entry(key: keyScalar.string, keyLine: key.mark?.line, keyColumn: key.mark?.column,
                                     value: convert(value, problems: &problems)))
            }
            return ConfigNode(kind: .mapping(entries), line: line, column: column)
        case .alias(let alias):
            problems.append(ConfigError(
                code: .syntax, path: "", message: "unresolved YAML alias '\(alias.anchor.rawValue)'",
                line: line, column: column))
            return ConfigNode(kind: .scalar("", plain: true), line: line, column: column)
        }
    }

    private static func syntaxError(_ error: YamlError) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return ConfigError(code: .syntax, path: "", message: message, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return ConfigError(
                code: .syntax, path: "", message: "duplicate key \(names) in one mapping; each key may appear once",
                line: context.mark.line, column: context.mark.column)
        case .reader(let problem, let offset, _, let yaml):
            var line = 1
            var column = 1
            if let offset {
                for character in yaml.prefix(offset) {
                    if character == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return ConfigError(code: .syntax, path: "", message: "YAML cannot be read: \(problem)", line: line, column: column)
        default:
            return ConfigError(code: .syntax, path: "", message: "YAML syntax error: \(error)")
        }
    }
}
