import SluiceExport

/// Writes batches to one snapshot file (Parquet or CSV) on a thread of its own, so the two files of a snapshot are
/// written at the same time while the next batch is parsed.
///
/// An actor whose executor is a dispatch queue it owns: the writer's CPU work and its blocking file I/O (write,
/// fsync) stay off Swift's cooperative pool. Batches must be written in order, one at a time (the exporter waits
/// for a batch before handing over the next).
actor SnapshotFileSink<Writer: SnapshotTableWriter> {
    /// The finished file: its size, SHA-256 and (for Parquet) row groups.
    struct Summary: Sendable {
        var bytes: Int64
        var sha256: String
        var rowGroups: Int
    }

    private let executor: SerialQueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private let writer: Writer
    /// The final path of the file.
    let path: String
    private let hasSplit: Bool
    private let firstFeature: Int
    private let featureTypes: [ParquetColumnType]

    init(writer: sending Writer, path: String, layout: SnapshotLayout) {
        self.executor = SerialQueueExecutor(label: "sluice.snapshots.sink")
        self.writer = writer
        self.path = path
        self.hasSplit = layout.hasSplit
        self.firstFeature = layout.firstFeature
        self.featureTypes = layout.schema.columns[layout.firstFeature...].map(\.type)
    }

    /// Appends the batch's rows.
    /// - Throws: ``SnapshotError`` `.io`.
    func write(_ batch: SnapshotBatch) throws {
        let result = batch.withText { text -> Result<Void, ExportError> in
            do throws(ExportError) {
                if let parquet = writer as? ParquetWriter {
                    try writeColumns(batch, text, to: parquet)
                } else {
                    try writeRows(batch, text)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        do {
            try result.get()
        } catch {
            throw SnapshotError(.io, "writing \(path) failed: \(error)")
        }
    }

    /// Closes the file (fsync, rename from its temporary name) and hashes it.
    /// - Throws: ``SnapshotError`` `.io`.
    func close() throws -> Summary {
        do {
            try writer.close()
        } catch {
            throw SnapshotError(.io, "closing \(path) failed: \(error)")
        }
        let digest = try FileDigest.sha256(path: path)
        return Summary(bytes: digest.bytes, sha256: digest.hex, rowGroups: (writer as? ParquetWriter)?.rowGroupsWritten ?? 0)
    }

    /// Abandons the file.
    func discard() {
        writer.discard()
    }

    private static var trainBytes: StaticString { "train" }
    private static var holdoutBytes: StaticString { "holdout" }

    /// Parquet: a column at a time (one sequential stream per column buffer), split at row-group ends.
    private func writeColumns(_ batch: SnapshotBatch, _ text: SnapshotBatch.TextResolver, to parquet: ParquetWriter) throws(ExportError) {
        typealias F = SnapshotLayout.Fixed
        typealias Slot = SnapshotBatch.Slot
        let train = UnsafeRawBufferPointer(start: Self.trainBytes.utf8Start, count: Self.trainBytes.utf8CodeUnitCount)
        let holdout = UnsafeRawBufferPointer(start: Self.holdoutBytes.utf8Start, count: Self.holdoutBytes.utf8CodeUnitCount)
        let featureCount = batch.featureCount
        var start = 0
        while start < batch.count {
            let count = min(parquet.rowsLeftInRowGroup, batch.count - start)
            let first = start
            try parquet.appendStringColumn(column: F.predictionID, count: count) { text(batch.predictionID[first + $0]) }
            try parquet.appendStringColumn(column: F.eventID, count: count) { text(batch.eventID[first + $0]) }
            try parquet.appendStringColumn(column: F.entityID, count: count) { text(batch.entity[first + $0]) }
            try parquet.appendTimestampColumn(column: F.eventTime, count: count) { batch.eventMillis[first + $0] }
            try parquet.appendStringColumn(column: F.modelName, count: count) { text(batch.modelName[first + $0]) }
            try parquet.appendInt64Column(column: F.modelVersion, count: count) { index in
                let version = batch.modelVersion[first + index]
                return version == .min ? nil : version
            }
            try parquet.appendDoubleColumn(column: F.score, count: count) { index in
                batch.hasScore[first + index] ? batch.score[first + index] : nil
            }
            try parquet.appendDoubleColumn(column: F.label, count: count) { batch.label[first + $0] }
            try parquet.appendTimestampColumn(column: F.labelTime, count: count) { batch.labelMillis[first + $0] }
            if hasSplit {
                try parquet.appendStringColumn(column: F.split, count: count) { batch.holdout[first + $0] ? holdout : train }
            }
            for feature in 0..<featureCount {
                let column = firstFeature + feature
                switch featureTypes[feature] {
                case .string:
                    try parquet.appendStringColumn(column: column, count: count) { index in
                        let slot = (first + index) * featureCount + feature
                        return batch.slots[slot] == Slot.string ? text(batch.texts[slot]) : nil
                    }
                case .bool:
                    try parquet.appendBoolColumn(column: column, count: count) { index in
                        switch batch.slots[(first + index) * featureCount + feature] {
                        case Slot.isTrue: true
                        case Slot.isFalse: false
                        default: nil
                        }
                    }
                default:
                    try parquet.appendDoubleColumn(column: column, count: count) { index in
                        let slot = (first + index) * featureCount + feature
                        let kind = batch.slots[slot]
                        return kind == Slot.number || kind == Slot.numberText ? batch.numbers[slot] : nil
                    }
                }
            }
            try parquet.endRows(count)
            start += count
        }
    }

    /// CSV (and any writer): a row at a time, as the CSV is one stream anyway.
    private func writeRows(_ batch: SnapshotBatch, _ resolve: SnapshotBatch.TextResolver) throws(ExportError) {
        typealias F = SnapshotLayout.Fixed
        typealias Slot = SnapshotBatch.Slot
        @inline(__always) func text(_ range: SnapshotBatch.Text) -> UnsafeRawBufferPointer { resolve.bytes(range) }
        let writer = self.writer
        // The CSV takes a number's JSON text as it is when it has a fraction or an exponent (the text the worker
        // stored, which reads back as the same double); Parquet takes the values.
        let csv = writer as? CSVWriter
        let featureCount = batch.featureCount
        let first = firstFeature
        let train = UnsafeRawBufferPointer(start: Self.trainBytes.utf8Start, count: Self.trainBytes.utf8CodeUnitCount)
        let holdout = UnsafeRawBufferPointer(start: Self.holdoutBytes.utf8Start, count: Self.holdoutBytes.utf8CodeUnitCount)
        for row in 0..<batch.count {
            try writer.appendString(column: F.predictionID, utf8: text(batch.predictionID[row]))
            let eventID = batch.eventID[row]
            if eventID.isNull { try writer.appendNull(column: F.eventID) } else { try writer.appendString(column: F.eventID, utf8: text(eventID)) }
            try writer.appendString(column: F.entityID, utf8: text(batch.entity[row]))
            try writer.appendTimestamp(column: F.eventTime, batch.eventMillis[row])
            let modelName = batch.modelName[row]
            if modelName.isNull { try writer.appendNull(column: F.modelName) } else { try writer.appendString(column: F.modelName, utf8: text(modelName)) }
            let version = batch.modelVersion[row]
            if version == .min { try writer.appendNull(column: F.modelVersion) } else { try writer.appendInt64(column: F.modelVersion, version) }
            if batch.hasScore[row] { try writer.appendDouble(column: F.score, batch.score[row]) } else { try writer.appendNull(column: F.score) }
            try writer.appendDouble(column: F.label, batch.label[row])
            try writer.appendTimestamp(column: F.labelTime, batch.labelMillis[row])
            if hasSplit { try writer.appendString(column: F.split, utf8: batch.holdout[row] ? holdout : train) }
            let base = row * featureCount
            for feature in 0..<featureCount {
                let column = first + feature
                let slot = base + feature
                switch batch.slots[slot] {
                case Slot.numberText:
                    if let csv {
                        try csv.appendDouble(column: column, text: text(batch.texts[slot]))
                    } else {
                        try writer.appendDouble(column: column, batch.numbers[slot])
                    }
                case Slot.number:
                    try writer.appendDouble(column: column, batch.numbers[slot])
                case Slot.string:
                    try writer.appendString(column: column, utf8: text(batch.texts[slot]))
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
    }
}
