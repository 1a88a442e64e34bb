// Sources/SluiceFeatures/Model/EventSchema.swift
/// The declared fields of the input events, in a fixed order: `DecodedEvent.values[i]` holds `fields[i]`.
package struct EventSchema: Sendable, Hashable {
    package struct Field: Sendable, Hashable {
        package var name: String
        package var type: FieldType
        package var optional: Bool
        package init(name: String, type: FieldType, optional: Bool = false) { self.name = name; self.type = type; self.optional = optional }
    }
    package var fields: [Field]
    package init(fields: [Field]) { self.fields = fields }
    package func index(of name: String) -> Int? { fields.firstIndex { $0.name == name } }
}

/// One decoded, validated event. Reused across decodes to avoid allocation: the decoder overwrites it in place.
package struct DecodedEvent: Sendable {
    package var entityID: String = ""
    package var eventTimeMillis: Int64 = 0
    package var eventID: String? = nil
    /// Indexed like `EventSchema.fields`.
    package var values: [FieldValue] = []
    /// The decoder's guess of the next payload's member order: the configured slot of each of the
    /// previous payload's first eight members, one byte each (slot + 1; 0 for a member the decoder
    /// skips). Only a hint: a guessed name is compared with the payload's bytes before it is used, so a
    /// stale or foreign hint costs a comparison, never a wrong result.
    var memberOrderHint: UInt64 = 0
    package init() {}
}
