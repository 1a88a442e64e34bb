import Dispatch
import SluiceExport
import Synchronization

/// Writes batches to one snapshot file (Parquet or CSV) on a serial queue of its own, so the two files of a
/// snapshot are written at the same time while the next batches are parsed.
///
/// Batches are written in the order they are submitted; `submit` waits while `depth` batches are still queued,
/// which bounds memory and slows the parser down to the writer's pace. The writer's CPU work and blocking file I/O
/// (write, fsync) stay off Swift's cooperative pool. The first failure is kept: later batches are skipped and
/// `submit` / `finish` throw it.
///
/// `@unchecked Sendable`: the writer (not thread-safe) is only touched by blocks running on `queue`, one at a time
/// and in submission order; the state shared with callers is behind a `Mutex`.
final class SnapshotFileSink: @unchecked Sendable {
    /// The finished file: its size, SHA-256 and (for Parquet) row groups.
    struct Summary: Sendable {
        var bytes: Int64
        var sha256: String
        var rowGroups: Int
    }

    private struct State {
        var queued = 0
        var failure: SnapshotError?
        /// The submitter waiting for room (there is one submitter).
        var waiter: CheckedContinuation<Void, Never>?
    }

    /// The file a sink writes.
    enum Target {
        case parquet(ParquetWriter)
        case csv(CSVWriter)
    }

    private let queue: DispatchQueue
    private let target: Target
    private let state = Mutex(State())
    private let depth: Int
    /// The final path of the file.
    let path: String
    private let hasSplit: Bool
    private let firstFeature: Int
    private let featureTypes: [ParquetColumnType]

    init(_ target: Target, path: String, layout: SnapshotLayout, depth: Int = 2) {
        self.queue = DispatchQueue(label: "sluice.snapshots.sink")
        self.target = target
        self.path = path
        self.depth = max(depth, 1)
        self.hasSplit = layout.hasSplit
        self.firstFeature = layout.firstFeature
        self.featureTypes = layout.schema.columns[layout.firstFeature...].map(\.type)
    }

    /// Queues the batch's rows for writing; first waits while `depth` batches are queued.
    /// - Throws: the ``SnapshotError`` `.io` of an earlier batch that failed.
    func submit(_ batch: SnapshotBatch) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let room = state.withLock { state -> Bool in
                if state.queued < depth || state.failure != nil { return true }
                state.waiter = continuation
                return false
            }
            if room { continuation.resume() }
        }
        try state.withLock { state in
            if let failure = state.failure { throw failure }
            state.queued += 1
        }
        queue.async { [self] in
            var failure: SnapshotError?
            if state.withLock({ $0.failure }) == nil {
                do {
                    try write(batch)
                } catch {
                    failure = error as? SnapshotError ?? SnapshotError(.io, "writing \(path) failed: \(error)")
                }
            }
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.queued -= 1
                if state.failure == nil { state.failure = failure }
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }

    /// After the queued batches: closes the file (fsync, rename from its temporary name) and hashes it.
    /// - Throws: ``SnapshotError`` `.io`, also for a batch that failed earlier.
    func finish() async throws -> Summary {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result {
                    if let failure = state.withLock({ $0.failure }) { throw failure }
                    var rowGroups = 0
                    do {
                        switch target {
                        case .parquet(let writer):
                            try writer.close()
                            rowGroups = writer.rowGroupsWritten
                        case .csv(let writer):
                            try writer.close()
                        }
                    } catch {
                        throw SnapshotError(.io, "closing \(path) failed: \(error)")
                    }
                    let digest = try FileDigest.sha256(path: path)
                    return Summary(bytes: digest.bytes, sha256: digest.hex, rowGroups: rowGroups)
                })
            }
        }
    }

    /// After the queued batches: abandons the file.
    func discard() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                switch target {
                case .parquet(let writer): writer.discard()
                case .csv(let writer): writer.discard()
                }
                continuation.resume()
            }
        }
    }

    /// Appends the batch's rows (on the queue).
    private func write(_ batch: SnapshotBatch) throws {
        let result = batch.withText { text -> Result<Void, ExportError> in
            do throws(ExportError) {
                switch target {
                case .parquet(let writer): try writeColumns(batch, text, to: writer)
                case .csv(let writer): try writeRows(batch, text, to: writer)
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

    /// CSV: a row at a time, as the CSV is one stream anyway.
    private func writeRows(_ batch: SnapshotBatch, _ resolve: SnapshotBatch.TextResolver, to writer: CSVWriter) throws(ExportError) {
        typealias F = SnapshotLayout.Fixed
        typealias Slot = SnapshotBatch.Slot
        @inline(__always) func text(_ range: SnapshotBatch.Text) -> UnsafeRawBufferPointer { resolve.bytes(range) }
        // A number's JSON text goes in as it is when it has a fraction or an exponent (the text the worker stored,
        // which reads back as the same double).
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
                    try writer.appendDouble(column: column, text: text(batch.texts[slot]))
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
