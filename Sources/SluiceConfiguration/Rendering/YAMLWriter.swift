/// A small block-style YAML writer for `renderEffective()`: quotes every string that a YAML reader could
/// take for something else.
struct YAMLWriter {
    private(set) var text = ""
    private var indent = 0

    /// `key: value` where `value` is already valid YAML (a number, a bool, a quoted string or a flow collection).
    mutating func line(_ key: String, _ value: String) {
        text += String(repeating: "  ", count: indent) + key + ": " + value + "\n"
    }

    /// `key: "string"` or `key: plain` as needed.
    mutating func string(_ key: String, _ value: String) {
        line(key, Self.scalar(value))
    }

    /// `key: null` or the quoted string.
    mutating func optionalString(_ key: String, _ value: String?) {
        line(key, value.map(Self.scalar) ?? "null")
    }

    /// `# comment`.
    mutating func comment(_ text: String) {
        self.text += String(repeating: "  ", count: indent) + "# " + text + "\n"
    }

    /// `key:` followed by an indented block.
    mutating func section(_ key: String, _ body: (inout YAMLWriter) -> Void) {
        text += String(repeating: "  ", count: indent) + key + ":\n"
        indent += 1
        body(&self)
        indent -= 1
    }

    /// `key:` followed by `- item` lines (flow items already valid YAML), or `key: []`.
    mutating func list(_ key: String, _ items: [String]) {
        if items.isEmpty {
            line(key, "[]")
            return
        }
        text += String(repeating: "  ", count: indent) + key + ":\n"
        for item in items {
            text += String(repeating: "  ", count: indent + 1) + "- " + item + "\n"
        }
    }

    /// `{a: b, c: d}` from pairs whose values are already valid YAML.
    static func flowMapping(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { scalar($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    /// A string as a YAML scalar: plain when it is unambiguous, otherwise double-quoted with escapes.
    static func scalar(_ value: String) -> String {
        needsQuotes(value) ? quoted(value) : value
    }

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static let reservedWords: Set<String> = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
        "True", "False", "Yes", "No", "On", "Off", "Y", "N", "Null", "NULL", "TRUE", "FALSE", "YES", "NO", "ON", "OFF",
    ]

    private static func needsQuotes(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return true }
        if reservedWords.contains(value) { return true }
        let isSafe: (Unicode.Scalar) -> Bool = {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || $0 == "_" || $0 == "." || $0 == "/" || $0 == "-" || $0 == "@" || $0 == ":" || $0 == "+"
        }
        guard value.unicodeScalars.allSatisfy(isSafe) else { return true }
        // Indicators may not start a plain scalar; a leading digit may resolve as a number, a date or a
        // YAML 1.1 sexagesimal (1:30), so both are quoted.
        if first == "-" || first == ":" || first == "+" || first == "@" || ("0"..."9").contains(first) { return true }
        if value == "." || value.hasSuffix(":") { return true }
        if first == "." {
            let lower = value.lowercased()
            return lower == ".inf" || lower == ".nan" || value.dropFirst().allSatisfy { ("0"..."9").contains($0) || $0 == "_" || $0 == "e" || $0 == "E" }
        }
        return false
    }
}
