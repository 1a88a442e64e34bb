import Dispatch
import SluicePostgres

/// Parses COPY chunks into ``SnapshotBatch``es on a serial queue of its own: the exporter runs two, so the
/// parsing (the largest share of an export's work) is spread over two threads while the file sinks write.
///
/// Each chunk is decoded on its own (see `PostgresBinaryCopyDecoder(continuing:)`); a row that does not fit the
/// plan is surveyed instead (its features' names and kinds), and the chunk's batch is then of no use — the exporter
/// re-plans. Results come back tagged with the chunk's sequence number; the exporter restores the order.
///
/// `@unchecked Sendable`: the parser and the survey (not thread-safe) are only touched by blocks running on
/// `queue`, one at a time; `summary()` also runs there, after the last chunk.
final class SnapshotParseWorker: @unchecked Sendable {
    /// A parsed chunk.
    struct Parsed: Sendable {
        var sequence: Int
        var batch: SnapshotBatch
        /// A row of the chunk did not fit the plan.
        var missed: Bool
        /// The chunk ended with the COPY's trailer.
        var sawTrailer: Bool
    }

    /// What the worker saw over all its chunks.
    struct Summary: Sendable {
        var stats: SnapshotStats
        /// Features with values in rows that fit the plan, and everything in rows that did not.
        var observations: [String: FeatureObservation]
    }

    private let queue = DispatchQueue(label: "sluice.snapshots.parse")
    private let parser: SnapshotRowParser
    private var survey = FeatureSurvey()
    private var expectedRows = 2_048

    init(plan: FeaturePlan, split: HoldoutSplit?) {
        parser = SnapshotRowParser(plan: plan, split: split)
    }

    /// Parses one chunk; `sequence` 0 is the first of the COPY (it holds the header).
    /// - Throws: ``SnapshotError`` for bad data, `PostgresError` for malformed COPY data.
    func parse(_ chunk: [UInt8], sequence: Int) async throws -> Parsed {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                continuation.resume(with: Result { try parseOnQueue(chunk, sequence: sequence) })
            }
        }
    }

    /// The statistics and observations of every chunk parsed so far.
    func summary() async -> Summary {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                var observations = parser.observations
                for (name, observation) in survey.observed { observations[name, default: FeatureObservation()].merge(observation) }
                continuation.resume(returning: Summary(stats: parser.stats, observations: observations))
            }
        }
    }

    private func parseOnQueue(_ chunk: [UInt8], sequence: Int) throws -> Parsed {
        var batch = SnapshotBatch(chunk: chunk, featureCount: parser.featureCount, expectedRows: expectedRows)
        var decoder = sequence == 0 ? PostgresBinaryCopyDecoder() : PostgresBinaryCopyDecoder(continuing: ())
        var missed = false
        try chunk.withUnsafeBytes { bytes in
            guard let chunkBase = bytes.baseAddress else { return }
            try decoder.decode(bytes: bytes) { row in
                if try parser.parse(row, into: &batch, chunkBase: chunkBase) == .planMiss {
                    missed = true
                    try survey.record(row, featuresField: SnapshotRowParser.Field.features)
                }
            }
        }
        guard !decoder.hasPartialRow else {
            throw SnapshotError(.invalidData, "COPY chunk \(sequence) ends inside a row; expected whole rows per chunk")
        }
        expectedRows = max(expectedRows, batch.count)
        return Parsed(sequence: sequence, batch: batch, missed: missed, sawTrailer: decoder.isAtEnd)
    }
}
