import SluiceExport

/// The columns of a snapshot in file order: the fixed columns, `split` (unless the split is off), then one
/// column per feature sorted by name.
struct SnapshotLayout {
    /// The fixed columns' indexes.
    enum Fixed {
        static let predictionID = 0
        static let eventID = 1
        static let entityID = 2
        static let eventTime = 3
        static let modelName = 4
        static let modelVersion = 5
        static let score = 6
        static let label = 7
        static let labelTime = 8
        static let split = 9
    }

    static let fixedColumns: [ParquetColumn] = [
        .required("prediction_id", .string),
        .optional("event_id", .string),
        .required("entity_id", .string),
        .required("event_time", .timestamp(.millis)),
        .optional("model_name", .string),
        .optional("model_version", .int64),
        .optional("score", .double),
        .required("label", .double),
        .required("label_time", .timestamp(.millis)),
    ]

    let schema: ParquetSchema
    let columns: [SnapshotColumn]
    /// The index of the first feature column.
    let firstFeature: Int
    let hasSplit: Bool

    /// - Throws: ``SnapshotError`` `.invalidData` when a feature has the name of a fixed column.
    init(plan: FeaturePlan, split: Bool) throws(SnapshotError) {
        var parquetColumns = Self.fixedColumns
        if split { parquetColumns.append(.required("split", .string)) }
        let fixedNames = Set(parquetColumns.map(\.name))
        for (name, type) in zip(plan.names, plan.types) {
            guard !fixedNames.contains(name) else {
                throw SnapshotError(.invalidData, "feature '\(name)' has the name of a fixed snapshot column (\(parquetColumns.map(\.name).joined(separator: ", "))); rename the feature")
            }
            switch type {
            case .double: parquetColumns.append(.optional(name, .double))
            case .string: parquetColumns.append(.optional(name, .string))
            case .bool: parquetColumns.append(.optional(name, .bool))
            }
        }
        do {
            schema = try ParquetSchema(parquetColumns)
        } catch {
            throw SnapshotError(.invalidData, "the snapshot's columns are not a valid table: \(error.message)")
        }
        columns = parquetColumns.map { SnapshotColumn(name: $0.name, type: Self.typeName($0.type), nullable: $0.isOptional) }
        firstFeature = split ? Fixed.split + 1 : Fixed.split
        hasSplit = split
    }

    /// pyarrow's name for the type it reads a column of `type` as.
    static func typeName(_ type: ParquetColumnType) -> String {
        switch type {
        case .double: "double"
        case .float: "float"
        case .int64: "int64"
        case .int32: "int32"
        case .bool: "bool"
        case .string: "string"
        case .timestamp(.millis): "timestamp[ms, tz=UTC]"
        case .timestamp(.micros): "timestamp[us, tz=UTC]"
        }
    }
}
