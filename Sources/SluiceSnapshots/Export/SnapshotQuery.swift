/// The SQL of an export: the selection's filter, the sample the feature plan starts from, and the COPY.
///
/// COPY takes no parameters, so the filter is text: times are RFC 3339 literals written by us (digits and
/// punctuation only) and the model name, which a user types, travels as a transaction-local setting
/// (`set_config('sluice.snapshot_model', $1, true)`, bound as a parameter) that the filter reads back — never
/// spliced into the SQL.
struct SnapshotQuery {
    /// The setting that carries the model name into the COPY.
    static let modelSetting = "sluice.snapshot_model"
    /// Rows taken from each end of the event-time range for the sample.
    static let sampleRowsPerEnd = 1_000

    let table: String
    let filter: String
    let needsModelSetting: Bool

    /// - Parameter quotedSchema: the schema as a quoted identifier.
    init(quotedSchema: String, request: SnapshotRequest) {
        table = "\(quotedSchema).labelled"
        var conditions: [String] = []
        if let since = request.sinceMillis { conditions.append("event_time >= '\(RFC3339.format(since))'::timestamptz") }
        if let until = request.untilMillis { conditions.append("event_time < '\(RFC3339.format(until))'::timestamptz") }
        if request.modelName != nil { conditions.append("model_name = current_setting('\(Self.modelSetting)')") }
        if let version = request.modelVersion { conditions.append("model_version = \(version)") }
        filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        needsModelSetting = request.modelName != nil
    }

    /// Feature names and JSON kinds of the oldest and newest rows of the selection, with a count and an example
    /// prediction id per (name, kind). Non-object features read as no features here (the COPY pass reports them).
    var sample: String {
        """
        SELECT k.key, json_typeof(k.value), count(*)::int8, min(l.prediction_id)
        FROM ((SELECT prediction_id, features FROM \(table) \(filter) ORDER BY event_time LIMIT \(Self.sampleRowsPerEnd))
              UNION ALL
              (SELECT prediction_id, features FROM \(table) \(filter) ORDER BY event_time DESC LIMIT \(Self.sampleRowsPerEnd))) l
        CROSS JOIN LATERAL json_each(CASE WHEN json_typeof(l.features) = 'object' THEN l.features ELSE '{}'::json END) k
        GROUP BY 1, 2
        """
    }

    /// The rows, oldest event first (ties by prediction id, so the same selection always gives the same file),
    /// in the field order ``SnapshotRowEncoder`` reads.
    var copy: String {
        """
        COPY (SELECT prediction_id, event_id, entity, event_time, model_name, model_version, score, label, label_time, features
              FROM \(table) \(filter) ORDER BY event_time, prediction_id) TO STDOUT (FORMAT binary)
        """
    }
}
