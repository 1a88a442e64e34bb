/// The declaration of one feature: its output name and how it is computed.
package struct FeatureSpec: Sendable, Hashable {
    /// How a feature is computed from the events of its entity.
    package enum Kind: Sendable, Hashable {
        /// The event's own value of `field` (passthrough).
        case value(String)
        /// An aggregate over `window`, reading field `of` (nil for `count` and `time_since_last`).
        case aggregate(AggregateKind, of: String?, window: FeatureWindow)
    }

    /// The feature's name as it appears in outputs and the feature store.
    package var name: String
    /// How the feature is computed.
    package var kind: Kind

    /// Creates a feature declaration; validation happens in `validate(against:)` / `FeatureEngine.init`.
    package init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// Checks the declaration against the event schema.
    ///
    /// - Throws: `FeatureSpecError` naming the feature and what was expected.
    package func validate(against schema: EventSchema) throws(FeatureSpecError) {
        if name.isEmpty {
            throw FeatureSpecError(feature: name, "a feature needs a non-empty name")
        }
        switch kind {
        case .value(let field):
            guard schema.index(of: field) != nil else {
                throw FeatureSpecError(feature: name, "passthrough 'value' names field '\(field)', which is not declared in the event schema (declared: \(Self.fieldList(schema)))")
            }
        case .aggregate(let aggregate, let of, let window):
            try validateWindow(aggregate, window)
            if !aggregate.needsField {
                if let of {
                    let what = aggregate == .count ? "it counts events, nulls included" : "it measures time between events"
                    throw FeatureSpecError(feature: name, "aggregate '\(aggregate.rawValue)' takes no 'of' field (\(what)), got 'of: \(of)'")
                }
                return
            }
            guard let of else {
                throw FeatureSpecError(feature: name, "aggregate '\(aggregate.rawValue)' needs a field in 'of'")
            }
            guard let index = schema.index(of: of) else {
                throw FeatureSpecError(feature: name, "aggregate '\(aggregate.rawValue)' reads field '\(of)', which is not declared in the event schema (declared: \(Self.fieldList(schema)))")
            }
            let type = schema.fields[index].type
            if aggregate.needsNumericField && type != .double && type != .int {
                throw FeatureSpecError(feature: name, "aggregate '\(aggregate.rawValue)' needs a numeric field in 'of', got '\(of)' (\(type.rawValue))")
            }
            if aggregate == .approxDistinct && type == .double {
                throw FeatureSpecError(feature: name, "aggregate 'approx_distinct' needs a string, int or bool field in 'of', got '\(of)' (double)")
            }
        }
    }

    private func validateWindow(_ aggregate: AggregateKind, _ window: FeatureWindow) throws(FeatureSpecError) {
        guard case .sliding(let duration, let tile) = window else { return }
        if aggregate == .timeSinceLast {
            throw FeatureSpecError(feature: name, "aggregate 'time_since_last' takes no window (it always looks at the previous event)")
        }
        if duration < FeatureWindow.minimumDurationMillis || duration > FeatureWindow.maximumDurationMillis {
            throw FeatureSpecError(feature: name, "window must be between 1s and 30d, got \(Self.describe(millis: duration))")
        }
        if duration % 1_000 != 0 {
            throw FeatureSpecError(feature: name, "window must be a whole number of seconds, got \(duration) ms")
        }
        if tile <= 0 || duration % tile != 0 {
            throw FeatureSpecError(feature: name, "tile resolution must be positive and divide the window \(Self.describe(millis: duration)), got \(tile) ms")
        }
    }

    private static func fieldList(_ schema: EventSchema) -> String {
        schema.fields.map(\.name).joined(separator: ", ")
    }

    static func describe(millis: Int64) -> String {
        let units: [(Int64, String)] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")]
        for (size, suffix) in units where millis >= size && millis % size == 0 {
            return "\(millis / size)\(suffix)"
        }
        return "\(millis)ms"
    }
}
