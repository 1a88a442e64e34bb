/// The JSON kind of one feature value, as `json_typeof` names it.
enum FeatureValueKind: UInt8, Sendable, CaseIterable {
    case number, string, boolean, null, object, array

    /// `json_typeof`'s name for it.
    var jsonName: String {
        switch self {
        case .number: "number"
        case .string: "string"
        case .boolean: "boolean"
        case .null: "null"
        case .object: "object"
        case .array: "array"
        }
    }

    init?(jsonName: String) {
        guard let kind = Self.allCases.first(where: { $0.jsonName == jsonName }) else { return nil }
        self = kind
    }
}
