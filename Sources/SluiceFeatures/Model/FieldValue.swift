// Sources/SluiceFeatures/Model/FieldValue.swift
/// The scalar type of an event field, as declared in the `source.fields` section of the configuration.
package enum FieldType: String, Sendable, Hashable, CaseIterable {
    case double, int, string, bool
}

/// A typed value of one event field or one feature.
package enum FieldValue: Sendable, Hashable {
    case double(Double)
    case int(Int64)
    case string(String)
    case bool(Bool)
    case null

    /// The value as a Double for numeric aggregation; nil for strings, bools and null.
    package var numeric: Double? {
        switch self {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
}
