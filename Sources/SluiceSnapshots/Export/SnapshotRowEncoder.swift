import SluiceExport
import SluicePostgres

/// Writes the rows of the labelled COPY to the Parquet and CSV files of a snapshot, one row at a time, in one pass.
///
/// Each COPY row holds `prediction_id, event_id, entity, event_time, model_name, model_version, score, label,
/// label_time, features` (see ``SnapshotQuery``). The features JSON is scanned in place: member names are matched
/// to columns by their bytes, numbers parsed by ``DecimalParser``; only escaped strings are copied. A row whose
/// features do not fit the plan (a name the plan lacks, or a string where a so-far-null feature was typed
/// double) is not written: `encode` reports `.planMiss` and the exporter re-plans.
///
/// Memory is the writers' current row group and buffers, whatever the number of rows.
final class SnapshotRowEncoder {
    /// What happened to a row.
    enum Outcome {
        case written
        /// The row does not fit the plan; nothing of it was written.
        case planMiss
    }

    /// COPY field positions.
    enum Field {
        static let predictionID = 0
        static let eventID = 1
        static let entity = 2
        static let eventTime = 3
        static let modelName = 4
        static let modelVersion = 5
        static let score = 6
        static let label = 7
        static let labelTime = 8
        static let features = 9
        static let count = 10
    }

    /// Value kinds in the row buffer.
    private enum Slot {
        static let empty: UInt8 = 0
        static let number: UInt8 = 1
        static let string: UInt8 = 2
        static let isTrue: UInt8 = 3
        static let isFalse: UInt8 = 4
    }

    let plan: FeaturePlan
    let layout: SnapshotLayout
    let parquet: ParquetWriter
    let csv: CSVWriter
    private let split: HoldoutSplit?
    private let keys: FeatureKeyIndex
    private let featureCount: Int
    private(set) var stats = SnapshotStats()
    /// Per feature, a prediction id with a non-null value, seen in this pass.
    private var valueExamples: [String?]

    // The current row's feature values, by feature index.
    private var slots: [UInt8]
    private var numbers: [Double]
    private var stringRanges: [(start: Int, end: Int)]
    /// Decoded escaped strings of the current row.
    private var arena: [UInt8] = []
    /// The feature index found at each member position of the previous row.
    private var previousOrder: [Int] = []

    private static let trainBytes: StaticString = "train"
    private static let holdoutBytes: StaticString = "holdout"

    /// Creates the writers (temporary files until `close()`).
    /// - Throws: ``SnapshotError`` for a feature named like a fixed column or an unwritable file.
    init(plan: FeaturePlan, split: HoldoutSplit?, parquetPath: String, csvPath: String, rowGroupRows: Int,
         snapshotID: String) throws {
        self.plan = plan
        self.split = split
        self.layout = try SnapshotLayout(plan: plan, split: split != nil)
        self.keys = FeatureKeyIndex(names: plan.names)
        self.featureCount = plan.names.count
        var options = ParquetWriterOptions()
        options.rowGroupRows = rowGroupRows
        options.compression = .snappy
        options.keyValueMetadata = [(key: "sluice.snapshot_id", value: snapshotID)]
        do {
            parquet = try ParquetWriter(path: parquetPath, schema: layout.schema, options: options)
        } catch {
            throw SnapshotError(.io, "cannot create \(parquetPath): \(error.message)")
        }
        do {
            csv = try CSVWriter(path: csvPath, schema: layout.schema)
        } catch {
            parquet.discard()
            throw SnapshotError(.io, "cannot create \(csvPath): \(error.message)")
        }
        valueExamples = Array(repeating: nil, count: plan.names.count)
        slots = Array(repeating: Slot.empty, count: plan.names.count)
        numbers = Array(repeating: 0, count: plan.names.count)
        stringRanges = Array(repeating: (0, 0), count: plan.names.count)
    }

    /// Observations of this pass (features with a value, each with an example), to merge into a new plan.
    var observations: [String: FeatureObservation] {
        var result: [String: FeatureObservation] = [:]
        for (index, example) in valueExamples.enumerated() {
            guard let example else { continue }
            var observation = FeatureObservation()
            switch plan.types[index] {
            case .double: observation.record(.number, predictionID: example)
            case .string: observation.record(.string, predictionID: example)
            case .bool: observation.record(.boolean, predictionID: example)
            }
            result[plan.names[index]] = observation
        }
        return result
    }

    /// Writes one COPY row to both files.
    /// - Throws: ``SnapshotError`` (`.invalidData`, `.mixedFeatureTypes`, `.io`).
    func encode(_ row: PostgresBinaryCopyRow) throws -> Outcome {
        guard row.fieldCount == Field.count,
              let predictionID = row.field(Field.predictionID),
              let entity = row.field(Field.entity),
              let features = row.field(Field.features)
        else {
            throw SnapshotError(.invalidData, "a labelled row has \(row.fieldCount) fields or a NULL prediction_id, entity or features; expected \(Field.count) fields as selected")
        }
        // Features first: a row that does not fit the plan must leave nothing behind.
        guard try parseFeatures(features, predictionID: predictionID) else { return .planMiss }

        let eventMillis = try Self.millis(row.field(Field.eventTime), "event_time", predictionID)
        let labelMillis = try Self.millis(row.field(Field.labelTime), "label_time", predictionID)
        guard let labelBytes = row.field(Field.label), labelBytes.count == 8 else {
            throw invalid("label is NULL or not a float8", predictionID)
        }
        let label = Double(bitPattern: UInt64(bigEndian: labelBytes.loadUnaligned(as: UInt64.self)))
        let score: Double?
        if let bytes = row.field(Field.score) {
            guard bytes.count == 8 else { throw invalid("score is not a float8", predictionID) }
            score = Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
        } else {
            score = nil
        }
        let version: Int64?
        if let bytes = row.field(Field.modelVersion) {
            guard bytes.count == 4 else { throw invalid("model_version is not an int4", predictionID) }
            version = Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        } else {
            version = nil
        }
        let modelName = row.field(Field.modelName)
        let holdout = split?.isHoldout(entityUTF8: entity) ?? false

        let values = RowValues(
            predictionID: predictionID, eventID: row.field(Field.eventID), entity: entity, eventMillis: eventMillis,
            modelName: modelName, modelVersion: version, score: score, label: label, labelMillis: labelMillis,
            holdout: holdout)
        do {
            try write(values, features: features, to: parquet)
            try write(values, features: features, to: csv)
        } catch {
            throw SnapshotError(.io, "writing the snapshot failed at row \(stats.rows): \(error)")
        }
        clearRow()

        stats.rows += 1
        if holdout { stats.holdoutRows += 1 }
        if eventMillis < stats.minEventMillis { stats.minEventMillis = eventMillis }
        if eventMillis > stats.maxEventMillis { stats.maxEventMillis = eventMillis }
        noteModel(modelName, version)
        return .written
    }

    /// Closes both files (fsync, rename from their temporary names).
    /// - Throws: ``SnapshotError`` `.io`.
    func close() throws {
        do {
            try parquet.close()
        } catch {
            csv.discard()
            throw SnapshotError(.io, "closing \(parquet.path) failed: \(error)")
        }
        do {
            try csv.close()
        } catch {
            throw SnapshotError(.io, "closing \(csv.path) failed: \(error)")
        }
    }

    /// Abandons both files.
    func discard() {
        parquet.discard()
        csv.discard()
    }

    // MARK: the row

    private struct RowValues {
        var predictionID: UnsafeRawBufferPointer
        var eventID: UnsafeRawBufferPointer?
        var entity: UnsafeRawBufferPointer
        var eventMillis: Int64
        var modelName: UnsafeRawBufferPointer?
        var modelVersion: Int64?
        var score: Double?
        var label: Double
        var labelMillis: Int64
        var holdout: Bool
    }

    /// Appends the row, in column order (as the CSV writer needs), to `writer`.
    private func write<W: SnapshotTableWriter>(_ row: RowValues, features: UnsafeRawBufferPointer, to writer: W) throws(ExportError) {
        typealias F = SnapshotLayout.Fixed
        try writer.appendString(column: F.predictionID, utf8: row.predictionID)
        if let eventID = row.eventID { try writer.appendString(column: F.eventID, utf8: eventID) } else { try writer.appendNull(column: F.eventID) }
        try writer.appendString(column: F.entityID, utf8: row.entity)
        try writer.appendTimestamp(column: F.eventTime, row.eventMillis)
        if let name = row.modelName { try writer.appendString(column: F.modelName, utf8: name) } else { try writer.appendNull(column: F.modelName) }
        if let version = row.modelVersion { try writer.appendInt64(column: F.modelVersion, version) } else { try writer.appendNull(column: F.modelVersion) }
        if let score = row.score { try writer.appendDouble(column: F.score, score) } else { try writer.appendNull(column: F.score) }
        try writer.appendDouble(column: F.label, row.label)
        try writer.appendTimestamp(column: F.labelTime, row.labelMillis)
        if split != nil {
            let text = row.holdout ? Self.holdoutBytes : Self.trainBytes
            try writer.appendString(column: F.split, utf8: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        let first = layout.firstFeature
        for index in 0..<featureCount {
            let column = first + index
            switch slots[index] {
            case Slot.number:
                try writer.appendDouble(column: column, numbers[index])
            case Slot.string:
                let range = stringRanges[index]
                if range.start < 0 {
                    // Decoded into the arena (encoded as -start-1).
                    let start = -range.start - 1
                    let result = arena.withUnsafeBytes { bytes -> Result<Void, ExportError> in
                        do throws(ExportError) {
                            try writer.appendString(column: column, utf8: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + range.end)]))
                            return .success(())
                        } catch {
                            return .failure(error)
                        }
                    }
                    try result.get()
                } else {
                    try writer.appendString(column: column, utf8: UnsafeRawBufferPointer(rebasing: features[range.start..<range.end]))
                }
            case Slot.isTrue:
                try writer.appendBool(column: column, true)
            case Slot.isFalse:
                try writer.appendBool(column: column, false)
            default:
                try writer.appendNull(column: column)
            }
        }
        try writer.endRow()
    }

    private func clearRow() {
        for index in 0..<featureCount { slots[index] = Slot.empty }
        arena.removeAll(keepingCapacity: true)
    }

    /// Fills the row buffer from the features JSON; false when the row does not fit the plan.
    private func parseFeatures(_ json: UnsafeRawBufferPointer, predictionID: UnsafeRawBufferPointer) throws -> Bool {
        var scanner: JSONObjectScanner
        do {
            scanner = try JSONObjectScanner(json)
        } catch {
            throw invalid("features are not a flat JSON object: \(error.reason)", predictionID)
        }
        var position = 0
        var keyScratch: [UInt8] = []
        while true {
            let next: JSONObjectScanner.Member?
            do {
                next = try scanner.next()
            } catch {
                throw invalid("features are not a flat JSON object: \(error.reason)", predictionID)
            }
            guard let member = next else { break }
            defer { position += 1 }
            // Find the feature: the previous row's feature at this position, else the index.
            let index: Int
            if member.keyEscaped {
                keyScratch.removeAll(keepingCapacity: true)
                do {
                    try JSONStringDecoder.decode(UnsafeRawBufferPointer(rebasing: json[member.keyStart..<member.keyEnd]), into: &keyScratch)
                } catch {
                    throw invalid("a feature name is malformed: \(error.reason)", predictionID)
                }
                guard let found = keyScratch.withUnsafeBytes({ keys.column(of: $0) }) else { return false }
                index = found
            } else {
                let key = UnsafeRawBufferPointer(rebasing: json[member.keyStart..<member.keyEnd])
                if position < previousOrder.count, keys.matches(previousOrder[position], key) {
                    index = previousOrder[position]
                } else {
                    guard let found = keys.column(of: key) else { return false }
                    index = found
                }
            }
            if position < previousOrder.count {
                previousOrder[position] = index
            } else {
                previousOrder.append(index)
            }
            guard try store(member, index: index, json: json, predictionID: predictionID) else { return false }
        }
        return true
    }

    /// Puts one member's value in the row buffer; false when its kind does not fit a provisional column.
    @inline(__always)
    private func store(_ member: JSONObjectScanner.Member, index: Int, json: UnsafeRawBufferPointer,
                       predictionID: UnsafeRawBufferPointer) throws -> Bool {
        let type = plan.types[index]
        switch member.kind {
        case .null:
            slots[index] = Slot.empty  // a later duplicate member wins, as in jsonb
            return true
        case .number:
            guard type == .double else { return try mismatch(member.kind, index: index, predictionID) }
            guard let value = DecimalParser.parse(UnsafeRawBufferPointer(rebasing: json[member.valueStart..<member.valueEnd])) else {
                let text = String(decoding: json[member.valueStart..<member.valueEnd], as: UTF8.self)
                throw invalid("feature '\(plan.names[index])' has the malformed number '\(text)'", predictionID)
            }
            numbers[index] = value
            slots[index] = Slot.number
        case .string:
            guard type == .string else { return try mismatch(member.kind, index: index, predictionID) }
            if member.valueEscaped {
                let start = arena.count
                do {
                    try JSONStringDecoder.decode(UnsafeRawBufferPointer(rebasing: json[member.valueStart..<member.valueEnd]), into: &arena)
                } catch {
                    throw invalid("feature '\(plan.names[index])' has a malformed string: \(error.reason)", predictionID)
                }
                stringRanges[index] = (-start - 1, arena.count - start)
            } else {
                stringRanges[index] = (member.valueStart, member.valueEnd)
            }
            slots[index] = Slot.string
        case .boolean:
            guard type == .bool else { return try mismatch(member.kind, index: index, predictionID) }
            slots[index] = json[member.valueStart] == UInt8(ascii: "t") ? Slot.isTrue : Slot.isFalse
        case .object, .array:
            throw invalid("feature '\(plan.names[index])' has \(member.kind.jsonName) value; expected a number, string, boolean or null", predictionID)
        }
        if valueExamples[index] == nil { valueExamples[index] = String(decoding: predictionID, as: UTF8.self) }
        return true
    }

    /// A value whose kind differs from the column's type: a plan miss for a column typed from nulls only,
    /// otherwise a feature with mixed types.
    private func mismatch(_ kind: FeatureValueKind, index: Int, _ predictionID: UnsafeRawBufferPointer) throws -> Bool {
        if plan.provisional[index] && valueExamples[index] == nil { return false }
        var observation = plan.observations[index]
        if let example = valueExamples[index] {
            switch plan.types[index] {
            case .double: observation.record(.number, predictionID: example)
            case .string: observation.record(.string, predictionID: example)
            case .bool: observation.record(.boolean, predictionID: example)
            }
        }
        observation.record(kind, predictionID: String(decoding: predictionID, as: UTF8.self))
        _ = try FeaturePlan([plan.names[index]: observation])  // throws the mixed-types error
        throw invalid("feature '\(plan.names[index])' has a \(kind.jsonName) value in a \(plan.types[index].rawValue) column", predictionID)
    }

    private func noteModel(_ name: UnsafeRawBufferPointer?, _ version: Int64?) {
        switch stats.modelNames {
        case .none:
            stats.modelNames = .one(name.map { Array($0) })
        case .one(let seen):
            let same: Bool
            switch (seen, name) {
            case (nil, nil): same = true
            case (let seen?, let name?): same = seen.elementsEqual(name)
            default: same = false
            }
            if !same { stats.modelNames = .many }
        case .many:
            break
        }
        stats.modelVersions.note(version)
    }

    // MARK: decoding helpers

    /// Epoch milliseconds (floored) of a binary timestamptz.
    private static func millis(_ bytes: UnsafeRawBufferPointer?, _ column: String, _ predictionID: UnsafeRawBufferPointer) throws -> Int64 {
        guard let bytes, bytes.count == 8 else {
            throw SnapshotError(.invalidData, "prediction \(String(decoding: predictionID, as: UTF8.self)): \(column) is NULL or not a timestamptz")
        }
        let raw = Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
        guard raw != .max, raw != .min else {
            throw SnapshotError(.invalidData, "prediction \(String(decoding: predictionID, as: UTF8.self)): \(column) is infinite; a snapshot holds finite times")
        }
        let micros = raw + 946_684_800_000_000
        let (quotient, remainder) = micros.quotientAndRemainder(dividingBy: 1_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    private func invalid(_ reason: String, _ predictionID: UnsafeRawBufferPointer) -> SnapshotError {
        SnapshotError(.invalidData, "prediction \(String(decoding: predictionID, as: UTF8.self)): \(reason)")
    }
}
