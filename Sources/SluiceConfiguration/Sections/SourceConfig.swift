/// `source:` — the input topics and the shape of their JSON events.
package struct SourceConfig: Hashable, Sendable {
    /// `event_time_format`.
    package enum EventTimeFormat: String, CaseIterable, Hashable, Sendable {
        /// RFC 3339 strings and epoch-millisecond numbers are both accepted.
        case auto
        case rfc3339
        case epochMilliseconds = "epoch_ms"
        case epochSeconds = "epoch_s"
    }

    /// `topics`: input topics (at least one).
    package var topics: [String]
    /// `entity`: the field holding the entity id.
    package var entity: String
    /// `event_time`: the field holding the event time.
    package var eventTime: String
    /// `event_time_format`.
    package var eventTimeFormat: EventTimeFormat = .auto
    /// `event_id`: optional field holding a producer-assigned event id.
    package var eventID: String?
    /// `allowed_lateness`: how far behind the partition's latest event time an event may arrive.
    package var allowedLateness: Duration = .zero
    /// `max_payload_bytes`: larger messages are dead-lettered.
    package var maxPayloadBytes: Int = 1 << 20
    /// `max_future_skew`: events stamped further ahead of the wall clock are dead-lettered.
    package var maxFutureSkew: Duration = .seconds(3600)
    /// `fields`: declared input fields in file order (entity and event_time are not listed here).
    package var fields: [FieldDeclaration] = []

    /// Creates a source with the required keys; the rest take their defaults.
    package init(topics: [String], entity: String, eventTime: String) {
        self.topics = topics
        self.entity = entity
        self.eventTime = eventTime
    }

    /// The declared field called `name`.
    package func field(named name: String) -> FieldDeclaration? {
        fields.first { $0.name == name }
    }

    static func decode(_ m: MappingReader) -> SourceConfig {
        var c = SourceConfig(topics: [], entity: "", eventTime: "")
        switch m.list("topics", .topic) {
        case .value(let topics) where !topics.isEmpty:
            c.topics = topics
        case .value, .unset:
            m.reportMissing("topics", expected: "a non-empty list of input topic names, e.g. [transactions]")
        case .invalid:
            break
        }
        c.entity = m.required("entity", placeholder: "", .nonEmptyString)
        c.eventTime = m.required("event_time", placeholder: "", .nonEmptyString)
        c.eventTimeFormat = m.value("event_time_format", default: c.eventTimeFormat, .oneOf(EventTimeFormat.self))
        c.eventID = m.optional("event_id", .nonEmptyString)
        c.allowedLateness = m.value("allowed_lateness", default: c.allowedLateness, .nonNegativeDuration)
        c.maxPayloadBytes = m.value("max_payload_bytes", default: c.maxPayloadBytes, .byteSize(16...(1 << 30)))
        c.maxFutureSkew = m.value("max_future_skew", default: c.maxFutureSkew, .nonNegativeDuration)
        c.fields = decodeFields(m, entity: c.entity, eventTime: c.eventTime)
        if let eventID = c.eventID, eventID == c.entity || eventID == c.eventTime {
            m.decoder.report(.invalidValue, at: m.path.key("event_id"), node: m.entry("event_id"),
                             "'\(eventID)' is already the \(eventID == c.entity ? "entity" : "event_time") field; expected a separate field holding the event id")
        }
        return c
    }

    /// `fields` from the file, then `SLUICE_SOURCE_FIELD_<name>=<type>` variables (one entry each, name as written).
    private static func decodeFields(_ m: MappingReader, entity: String, eventTime: String) -> [FieldDeclaration] {
        var fields: [FieldDeclaration] = []
        func add(_ name: String, _ text: String, path: ConfigPath, variable: String?, node: ConfigNode?) {
            if !entity.isEmpty, name == entity || name == eventTime {
                m.decoder.report(.invalidValue, at: path, variable: variable, node: node,
                                 "'\(name)' is the \(name == entity ? "entity" : "event_time") field; it is declared by source.\(name == entity ? "entity" : "event_time") and must not be listed in source.fields")
                return
            }
            switch FieldDeclaration.typeParser.parse(text) {
            case .success(let (type, optional)):
                let declaration = FieldDeclaration(name: name, type: type, isOptional: optional)
                if let existing = fields.firstIndex(where: { $0.name == name }) {
                    fields[existing] = declaration
                } else {
                    fields.append(declaration)
                }
            case .failure(let issue):
                m.decoder.report(.invalidValue, at: path, variable: variable, node: node, issue.message)
            }
        }
        let (path, entries) = m.mapEntries("fields")
        for entry in entries {
            let entryPath = path.entry(entry.key)
            guard !entry.key.isEmpty else {
                m.decoder.report(.invalidValue, at: entryPath, node: entry.value, "empty field name")
                continue
            }
            guard case .scalar(let text, _) = entry.value.kind, !entry.value.isNull else {
                m.decoder.report(.invalidValue, at: entryPath, node: entry.value,
                                 "expected \(FieldDeclaration.typeParser.expected), found \(entry.value.isNull ? "null" : entry.value.shapeName)")
                continue
            }
            add(entry.key, text, path: entryPath, variable: nil, node: entry.value)
        }
        for variable in m.decoder.variables(withPrefix: "SLUICE_SOURCE_FIELD_") {
            add(variable.suffix, variable.value, path: path.entry(variable.suffix), variable: variable.name, node: nil)
        }
        return fields
    }
}
