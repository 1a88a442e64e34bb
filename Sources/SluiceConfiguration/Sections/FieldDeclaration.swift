/// One input field of `source.fields`: its JSON name, type and whether it may be missing or null.
package struct FieldDeclaration: Hashable, Sendable {
    /// The type written in the config (`double`, `int`, `string`, `bool`).
    package enum FieldType: String, CaseIterable, Hashable, Sendable {
        case double, int, string, bool

        /// Whether aggregates such as `sum` and `mean` accept it.
        package var isNumeric: Bool { self == .double || self == .int }
    }

    /// The JSON key in the input event.
    package var name: String
    /// The declared type.
    package var type: FieldType
    /// True when written with a `?` suffix (`string?`): the field may be absent or null.
    package var isOptional: Bool

    /// Creates a declaration.
    package init(name: String, type: FieldType, isOptional: Bool = false) {
        self.name = name
        self.type = type
        self.isOptional = isOptional
    }

    /// The config spelling, e.g. `string?`.
    package var typeSpelling: String { type.rawValue + (isOptional ? "?" : "") }

    static let typeParser = ValueParser<(FieldType, Bool)>(expected: "a field type: double, int, string or bool, optionally suffixed with ? (e.g. string?)") { text in
        let optional = text.hasSuffix("?")
        let base = optional ? String(text.dropLast()) : text
        if let type = FieldType(rawValue: base) {
            return .success((type, optional))
        }
        var message = "'\(text)' is not a field type; expected double, int, string or bool, optionally suffixed with ? (e.g. string?)"
        if let near = EditDistance.closest(to: base, among: FieldType.allCases.map(\.rawValue)) {
            message += " (did you mean '\(near)\(optional ? "?" : "")'?)"
        }
        return .failure(ValueIssue(message))
    }
}
