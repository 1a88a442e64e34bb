import SluicePostgres

/// Turns the rows of the labelled COPY into ``SnapshotBatch``es: the parsing stage of an export.
///
/// Each COPY row holds `prediction_id, event_id, entity, event_time, model_name, model_version, score, label,
/// label_time, features` (see ``SnapshotQuery``). The features JSON is scanned in place: member names are matched
/// to columns by their bytes, numbers parsed by ``DecimalParser``. A row whose features do not fit the plan (a
/// name the plan lacks, or a string where a so-far-null feature was typed double) is not added: `parse` reports
/// `.planMiss` and the exporter re-plans.
final class SnapshotRowParser {
    /// What happened to a row.
    enum Outcome {
        case added
        /// The row does not fit the plan; nothing of it was added.
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

    /// Column types as bytes, for the hot loop.
    private enum Kind {
        static let double: UInt8 = 0
        static let string: UInt8 = 1
        static let bool: UInt8 = 2
    }

    let plan: FeaturePlan
    private let split: HoldoutSplit?
    private let keys: FeatureKeyIndex
    let featureCount: Int
    private(set) var stats = SnapshotStats()
    /// Per feature, a prediction id with a non-null value, seen in this pass.
    private var valueExamples: [String?]

    // Per-feature constants and state in manually managed memory: they are touched for every value, and
    // class-owned arrays would pay a dynamic exclusivity check each time.
    private let kinds: UnsafeMutablePointer<UInt8>
    private let provisional: UnsafeMutablePointer<Bool>
    private let hasExample: UnsafeMutablePointer<Bool>
    /// The current row's feature values, by feature index, until the row is complete.
    private let rowSlots: UnsafeMutablePointer<UInt8>
    private let rowNumbers: UnsafeMutablePointer<Double>
    private let rowTexts: UnsafeMutablePointer<SnapshotBatch.Text>
    /// The feature index found at each member position of the previous row (-1: none).
    private let previousOrder: UnsafeMutablePointer<Int>
    private let previousCapacity: Int
    private var keyScratch: [UInt8] = []

    init(plan: FeaturePlan, split: HoldoutSplit?) {
        self.plan = plan
        self.split = split
        self.keys = FeatureKeyIndex(names: plan.names)
        let count = plan.names.count
        self.featureCount = count
        valueExamples = Array(repeating: nil, count: count)
        kinds = .allocate(capacity: max(count, 1))
        provisional = .allocate(capacity: max(count, 1))
        hasExample = .allocate(capacity: max(count, 1))
        hasExample.initialize(repeating: false, count: max(count, 1))
        rowSlots = .allocate(capacity: max(count, 1))
        rowSlots.initialize(repeating: SnapshotBatch.Slot.empty, count: max(count, 1))
        rowNumbers = .allocate(capacity: max(count, 1))
        rowNumbers.initialize(repeating: 0, count: max(count, 1))
        rowTexts = .allocate(capacity: max(count, 1))
        rowTexts.initialize(repeating: .null, count: max(count, 1))
        for index in 0..<count {
            switch plan.types[index] {
            case .double: (kinds + index).initialize(to: Kind.double)
            case .string: (kinds + index).initialize(to: Kind.string)
            case .bool: (kinds + index).initialize(to: Kind.bool)
            }
            (provisional + index).initialize(to: plan.provisional[index])
        }
        previousCapacity = max(2 * count, 8)
        previousOrder = .allocate(capacity: previousCapacity)
        previousOrder.initialize(repeating: -1, count: previousCapacity)
    }

    deinit {
        kinds.deallocate()
        provisional.deallocate()
        hasExample.deallocate()
        rowSlots.deallocate()
        rowNumbers.deallocate()
        rowTexts.deallocate()
        previousOrder.deallocate()
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

    /// Adds one COPY row to `batch`; `chunkBase` is where the bytes of the batch's chunk start (the row's fields
    /// normally point into them).
    /// - Throws: ``SnapshotError`` (`.invalidData`, `.mixedFeatureTypes`).
    func parse(_ row: PostgresBinaryCopyRow, into batch: inout SnapshotBatch, chunkBase: UnsafeRawPointer) throws -> Outcome {
        guard row.fieldCount == Field.count,
              let predictionID = row.field(Field.predictionID),
              let entity = row.field(Field.entity),
              let features = row.field(Field.features)
        else {
            throw SnapshotError(.invalidData, "a labelled row has \(row.fieldCount) fields or a NULL prediction_id, entity or features; expected \(Field.count) fields as selected")
        }
        // Features first: a row that does not fit the plan must leave nothing behind.
        let extraBefore = batch.extra.count
        let jsonBase = batch.text(features, chunkBase: chunkBase).start
        let fits = try parseFeatures(features, predictionID: predictionID, into: &batch, jsonBase: jsonBase)
        defer { rowSlots.update(repeating: SnapshotBatch.Slot.empty, count: featureCount) }
        guard fits else {
            batch.extra.removeSubrange(extraBefore...)
            return .planMiss
        }
        batch.appendFeatures(slots: UnsafeBufferPointer(start: rowSlots, count: featureCount),
                             numbers: UnsafeBufferPointer(start: rowNumbers, count: featureCount),
                             texts: UnsafeBufferPointer(start: rowTexts, count: featureCount))

        let eventMillis = try Self.millis(row.field(Field.eventTime), "event_time", predictionID)
        let labelMillis = try Self.millis(row.field(Field.labelTime), "label_time", predictionID)
        guard let labelBytes = row.field(Field.label), labelBytes.count == 8 else {
            throw invalid("label is NULL or not a float8", predictionID)
        }
        batch.label.append(Double(bitPattern: UInt64(bigEndian: labelBytes.loadUnaligned(as: UInt64.self))))
        if let bytes = row.field(Field.score) {
            guard bytes.count == 8 else { throw invalid("score is not a float8", predictionID) }
            batch.score.append(Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))))
            batch.hasScore.append(true)
        } else {
            batch.score.append(0)
            batch.hasScore.append(false)
        }
        let version: Int64?
        if let bytes = row.field(Field.modelVersion) {
            guard bytes.count == 4 else { throw invalid("model_version is not an int4", predictionID) }
            version = Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        } else {
            version = nil
        }
        batch.modelVersion.append(version ?? .min)
        let modelName = row.field(Field.modelName)
        let holdout = split?.isHoldout(entityUTF8: entity) ?? false
        batch.predictionID.append(batch.text(predictionID, chunkBase: chunkBase))
        batch.eventID.append(row.field(Field.eventID).map { batch.text($0, chunkBase: chunkBase) } ?? .null)
        batch.entity.append(batch.text(entity, chunkBase: chunkBase))
        batch.eventMillis.append(eventMillis)
        batch.modelName.append(modelName.map { batch.text($0, chunkBase: chunkBase) } ?? .null)
        batch.labelMillis.append(labelMillis)
        batch.holdout.append(holdout)
        batch.endRow()

        stats.rows += 1
        if holdout { stats.holdoutRows += 1 }
        if eventMillis < stats.minEventMillis { stats.minEventMillis = eventMillis }
        if eventMillis > stats.maxEventMillis { stats.maxEventMillis = eventMillis }
        noteModel(modelName, version)
        return .added
    }

    /// Fills the row's feature slots from the features JSON; false when the row does not fit the plan.
    private func parseFeatures(_ json: UnsafeRawBufferPointer, predictionID: UnsafeRawBufferPointer,
                               into batch: inout SnapshotBatch, jsonBase: Int) throws -> Bool {
        var scanner: JSONObjectScanner
        do {
            scanner = try JSONObjectScanner(json)
        } catch {
            throw invalid("features are not a flat JSON object: \(error.reason)", predictionID)
        }
        var position = 0
        while true {
            // The previous row's feature at this position is the likely name: the scanner checks it in passing.
            let predicted = position < previousCapacity ? previousOrder[position] : -1
            let next: JSONObjectScanner.Member?
            do {
                next = try scanner.next(expecting: predicted >= 0 ? keys.plainName(predicted) : nil)
            } catch {
                throw invalid("features are not a flat JSON object: \(error.reason)", predictionID)
            }
            guard let member = next else { break }
            let index: Int
            if member.keyIsExpected {
                index = predicted
            } else if member.keyEscaped {
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
                guard let found = keys.column(of: key) else { return false }
                index = found
            }
            if position < previousCapacity { previousOrder[position] = index }
            position += 1
            guard try store(member, index: index, json: json, jsonBase: jsonBase, predictionID: predictionID,
                            into: &batch) else { return false }
        }
        return true
    }

    /// Puts one member's value in its slot; false when its kind does not fit a provisional column.
    @inline(__always)
    private func store(_ member: JSONObjectScanner.Member, index: Int, json: UnsafeRawBufferPointer, jsonBase: Int,
                       predictionID: UnsafeRawBufferPointer, into batch: inout SnapshotBatch) throws -> Bool {
        let kind = kinds[index]
        switch member.kind {
        case .null:
            rowSlots[index] = SnapshotBatch.Slot.empty  // a later duplicate member wins, as in jsonb
            return true
        case .number:
            guard kind == Kind.double else { return try mismatch(member.kind, index: index, predictionID) }
            guard let value = member.number else {
                let text = String(decoding: json[member.valueStart..<member.valueEnd], as: UTF8.self)
                throw invalid("feature '\(plan.names[index])' has the malformed number '\(text)'", predictionID)
            }
            rowNumbers[index] = value
            if member.numberHasFraction && value.isFinite {
                rowTexts[index] = SnapshotBatch.Text(start: jsonBase + member.valueStart, end: jsonBase + member.valueEnd)
                rowSlots[index] = SnapshotBatch.Slot.numberText
            } else {
                rowSlots[index] = SnapshotBatch.Slot.number
            }
        case .string:
            guard kind == Kind.string else { return try mismatch(member.kind, index: index, predictionID) }
            if member.valueEscaped {
                let start = batch.chunk.count + batch.extra.count
                do {
                    try JSONStringDecoder.decode(UnsafeRawBufferPointer(rebasing: json[member.valueStart..<member.valueEnd]), into: &batch.extra)
                } catch {
                    throw invalid("feature '\(plan.names[index])' has a malformed string: \(error.reason)", predictionID)
                }
                rowTexts[index] = SnapshotBatch.Text(start: start, end: batch.chunk.count + batch.extra.count)
            } else {
                rowTexts[index] = SnapshotBatch.Text(start: jsonBase + member.valueStart, end: jsonBase + member.valueEnd)
            }
            rowSlots[index] = SnapshotBatch.Slot.string
        case .boolean:
            guard kind == Kind.bool else { return try mismatch(member.kind, index: index, predictionID) }
            rowSlots[index] = json[member.valueStart] == UInt8(ascii: "t") ? SnapshotBatch.Slot.isTrue : SnapshotBatch.Slot.isFalse
        case .object, .array:
            throw invalid("feature '\(plan.names[index])' has \(member.kind.jsonName) value; expected a number, string, boolean or null", predictionID)
        }
        if !hasExample[index] {
            hasExample[index] = true
            valueExamples[index] = String(decoding: predictionID, as: UTF8.self)
        }
        return true
    }

    /// A value whose kind differs from the column's type: a plan miss for a column typed from nulls only,
    /// otherwise a feature with mixed types.
    private func mismatch(_ kind: FeatureValueKind, index: Int, _ predictionID: UnsafeRawBufferPointer) throws -> Bool {
        if provisional[index] && !hasExample[index] { return false }
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
