/// One entry of `features:` after validation: a passthrough of an input field or an aggregate over a window.
///
/// A plain value the engine converts into its own feature definitions.
package struct FeatureDeclaration: Hashable, Sendable {
    /// `aggregate:` functions.
    package enum AggregateFunction: String, CaseIterable, Hashable, Sendable {
        case count, sum, mean, min, max, variance, stddev, last
        case approxDistinct = "approx_distinct"
        case timeSinceLast = "time_since_last"

        /// Whether `of:` must name a field.
        package var requiresField: Bool { self != .count && self != .timeSinceLast }
        /// Whether the field named by `of:` must be numeric.
        package var requiresNumericField: Bool {
            switch self {
            case .sum, .mean, .min, .max, .variance, .stddev: true
            default: false
            }
        }
    }

    /// What the feature computes.
    package enum Kind: Hashable, Sendable {
        /// `value: FIELD`: the field's value in the current event.
        case value(field: String)
        /// `aggregate: FUNCTION` over the entity's events, optionally restricted to a sliding `window` kept in
        /// `tile`-sized buckets (both in milliseconds; nil = lifetime / engine default).
        case aggregate(AggregateFunction, of: String?, windowMilliseconds: Int64?, tileMilliseconds: Int64?)
    }

    /// The feature name: a SQL column name and JSON key (`[a-z_][a-z0-9_]*`, ≤ 63 characters).
    package var name: String
    /// What it computes.
    package var kind: Kind

    /// Creates a declaration.
    package init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// Shortest window allowed.
    static let minimumWindow: Duration = .seconds(1)
    /// Longest window allowed.
    static let maximumWindow: Duration = .seconds(30 * 86_400)

    /// Decodes and validates the `features:` list against the declared `fields`.
    static func decodeList(_ root: MappingReader, fields: [FieldDeclaration], source: SourceConfig) -> [FeatureDeclaration] {
        let decoder = root.decoder
        let path = ConfigPath.root.key("features")
        guard let node = root.entry("features") else {
            root.reportMissing("features", expected: "a list of feature declarations such as {name: amount, value: amount}")
            return []
        }
        guard case .sequence(let items) = node.kind else {
            decoder.report(.invalidValue, at: path, node: node, "expected a list of feature declarations, found \(node.shapeName)")
            return []
        }
        if items.isEmpty {
            decoder.report(.invalidValue, at: path, node: node, "empty list; declare at least one feature")
        }
        let fieldTypes = Dictionary(fields.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        var declarations: [FeatureDeclaration] = []
        var firstIndexByName: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let m = MappingReader(decoder: decoder, path: path.index(index), node: item)
            if item.isNull || !m.isPresent {
                if item.isNull {
                    decoder.report(.invalidValue, at: path.index(index), node: item, "expected a feature declaration mapping, found null")
                }
                continue
            }
            let name = m.required("name", placeholder: "", .identifier)
            if !name.isEmpty {
                if let earlier = firstIndexByName[name] {
                    decoder.report(.invalidValue, at: m.path.key("name"), node: m.entry("name"),
                                   "duplicate feature name '\(name)' (already declared at features[\(earlier)]); names must be unique")
                } else {
                    firstIndexByName[name] = index
                }
            }
            let valueField = m.read("value", .nonEmptyString)
            let function = m.read("aggregate", .oneOf(AggregateFunction.self))
            let of = m.read("of", .nonEmptyString)
            let window = m.read("window", .duration(minimumWindow...maximumWindow))
            let tile = m.read("tile", .positiveDuration)
            m.finish()

            func checkField(_ field: String, key: String) -> FieldDeclaration.FieldType? {
                if let type = fieldTypes[field] { return type }
                var message = "'\(field)' is not a declared field; declare it in source.fields"
                if field == source.entity || field == source.eventTime {
                    message = "'\(field)' is the source's \(field == source.entity ? "entity" : "event_time") field, which cannot be used here; declare features over fields listed in source.fields"
                } else if let near = EditDistance.closest(to: field, among: fields.map(\.name)) {
                    message += " (did you mean '\(near)'?)"
                } else if !fields.isEmpty {
                    message += " (declared: \(fields.map(\.name).joined(separator: ", ")))"
                }
                decoder.report(.invalidValue, at: m.path.key(key), node: m.entry(key), message)
                return nil
            }

            switch (valueField, function) {
            case (.unset, .unset):
                decoder.report(.missingKey, at: m.path, node: item,
                               "a feature needs exactly one of 'value: FIELD' (passthrough) or 'aggregate: FUNCTION'")
            case (.value, .value), (.value, .invalid), (.invalid, .value):
                decoder.report(.invalidValue, at: m.path, node: item,
                               "set exactly one of 'value' and 'aggregate', not both")
            case (.value(let field), .unset):
                for (key, outcome) in [("of", of.isSet), ("window", window.isSet), ("tile", tile.isSet)] where outcome {
                    decoder.report(.invalidValue, at: m.path.key(key), node: m.entry(key),
                                   "'\(key)' only applies to aggregates; a 'value' feature passes the field through")
                }
                if checkField(field, key: "value") != nil {
                    declarations.append(FeatureDeclaration(name: name, kind: .value(field: field)))
                }
            case (.unset, .value(let function)):
                var valid = true
                if case .value(let field) = of {
                    if let type = checkField(field, key: "of") {
                        if function.requiresNumericField, !type.isNumeric {
                            decoder.report(.invalidValue, at: m.path.key("of"), node: m.entry("of"),
                                           "'\(field)' is a \(type.rawValue) field; \(function.rawValue) needs a numeric field (double or int)")
                            valid = false
                        }
                    } else {
                        valid = false
                    }
                } else if case .unset = of, function.requiresField {
                    m.reportMissing("of", expected: "the field to aggregate", reason: "\(function.rawValue) needs a field; only count and time_since_last work without one")
                    valid = false
                }
                if function == .timeSinceLast, window.isSet {
                    decoder.report(.invalidValue, at: m.path.key("window"), node: m.entry("window"),
                                   "time_since_last takes no window; remove it")
                    valid = false
                }
                var windowMilliseconds: Int64?
                var tileMilliseconds: Int64?
                if case .value(let windowDuration) = window {
                    windowMilliseconds = DurationFormat.milliseconds(of: windowDuration)
                }
                if case .value(let tileDuration) = tile {
                    let tileValue = DurationFormat.milliseconds(of: tileDuration)
                    tileMilliseconds = tileValue
                    if let windowMilliseconds {
                        if windowMilliseconds % tileValue != 0 {
                            decoder.report(.invalidValue, at: m.path.key("tile"), node: m.entry("tile"),
                                           "tile \(DurationFormat.formatMilliseconds(tileValue)) does not divide window \(DurationFormat.formatMilliseconds(windowMilliseconds)); expected a tile the window is a whole multiple of")
                            valid = false
                        }
                    } else if case .unset = window {
                        decoder.report(.invalidValue, at: m.path.key("tile"), node: m.entry("tile"),
                                       "tile needs a window; set 'window' or remove 'tile'")
                        valid = false
                    }
                }
                if valid, !name.isEmpty, !of.isInvalid, !window.isInvalid, !tile.isInvalid {
                    declarations.append(FeatureDeclaration(
                        name: name,
                        kind: .aggregate(function, of: of.value, windowMilliseconds: windowMilliseconds, tileMilliseconds: tileMilliseconds)))
                }
            default:
                break  // an invalid 'value' or 'aggregate' is already reported
            }
        }
        return declarations
    }
}
