import SluicePostgres
import Testing

@testable import SluiceSnapshots

@Suite("Snapshot row parsing into batches")
struct SnapshotBatchParsingTests {
    /// A binary COPY stream of labelled rows (the exporter's field order).
    static func copyStream(_ rows: [(id: String, features: String)]) -> [UInt8] {
        func int16(_ v: Int16) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func int32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func int64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func field(_ bytes: [UInt8]?) -> [UInt8] { bytes.map { int32(Int32($0.count)) + $0 } ?? int32(-1) }
        var out: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00] + int32(0) + int32(0)
        for (index, row) in rows.enumerated() {
            let micros = (1_767_225_600_000 + Int64(index)) * 1_000 - 946_684_800_000_000
            out += int16(10)
            out += field(Array(row.id.utf8)) + field(nil) + field(Array("entity-\(index)".utf8)) + field(int64(micros))
            out += field(Array("fraud".utf8)) + field(int32(2)) + field(int64(Int64(bitPattern: (0.5).bitPattern)))
            out += field(int64(Int64(bitPattern: (1.0).bitPattern))) + field(int64(micros)) + field(Array(row.features.utf8))
        }
        return out + int16(-1)
    }

    @Test func rowsCutAcrossChunksAndEscapedStringsAreCopiedIntoTheBatch() throws {
        var observed: [String: FeatureObservation] = [:]
        observed["x", default: FeatureObservation()].record(.number, predictionID: "sample")
        observed["s", default: FeatureObservation()].record(.string, predictionID: "sample")
        let plan = try FeaturePlan(observed)
        let parser = SnapshotRowParser(plan: plan, split: HoldoutSplit(fraction: 0.5))
        let stream = Self.copyStream([(id: "first", features: #"{"x": 1.5, "s": "plain"}"#),
                                      (id: "second", features: #"{"s": "a\"b", "x": 2}"#)])
        // Cut inside the second row: it is completed from the decoder's carry, outside either chunk.
        let cut = stream.count - 20
        let chunks = [Array(stream[..<cut]), Array(stream[cut...])]
        var decoder = PostgresBinaryCopyDecoder()
        var batches: [SnapshotBatch] = []
        for chunk in chunks {
            var batch = SnapshotBatch(chunk: chunk, featureCount: parser.featureCount, expectedRows: 4)
            try chunk.withUnsafeBytes { bytes in
                let base = try #require(bytes.baseAddress)
                try decoder.decode(bytes: bytes) { row in
                    let outcome = try parser.parse(row, into: &batch, chunkBase: base)
                    #expect(outcome == .added)
                }
            }
            batches.append(batch)
        }
        try decoder.finish()
        #expect(batches.map(\.count) == [1, 1])
        #expect(parser.stats.rows == 2)
        #expect(parser.stats.singleModelName == "fraud")
        #expect(parser.stats.singleModelVersion == 2)

        // Feature slots: "s" is feature 0, "x" feature 1 (sorted by name).
        let first = batches[0]
        first.withText { text in
            #expect(text(first.predictionID[0]).map { String(decoding: $0, as: UTF8.self) } == "first")
            #expect(first.eventID[0].isNull)
            #expect(first.slots[0] == SnapshotBatch.Slot.string)
            #expect(text(first.texts[0]).map { String(decoding: $0, as: UTF8.self) } == "plain")
            #expect(first.slots[1] == SnapshotBatch.Slot.numberText)
            #expect(first.numbers[1] == 1.5)
            #expect(text(first.texts[1]).map { String(decoding: $0, as: UTF8.self) } == "1.5")
        }
        #expect(first.extra.isEmpty, "a row inside its chunk is not copied")
        let second = batches[1]
        second.withText { text in
            #expect(text(second.predictionID[0]).map { String(decoding: $0, as: UTF8.self) } == "second")
            #expect(text(second.entity[0]).map { String(decoding: $0, as: UTF8.self) } == "entity-1")
            #expect(text(second.texts[0]).map { String(decoding: $0, as: UTF8.self) } == "a\"b")
            #expect(second.slots[1] == SnapshotBatch.Slot.number, "an integer is formatted for the CSV, not copied")
            #expect(second.numbers[1] == 2)
        }
        #expect(!second.extra.isEmpty, "the cut row's text lives in the batch's own bytes")
        #expect(second.eventMillis[0] == 1_767_225_600_001)
    }

    @Test func aRowWithAnUnknownFeatureIsAPlanMissAndLeavesNothing() throws {
        var observed: [String: FeatureObservation] = [:]
        observed["x", default: FeatureObservation()].record(.number, predictionID: "sample")
        let parser = SnapshotRowParser(plan: try FeaturePlan(observed), split: nil)
        let stream = Self.copyStream([(id: "a", features: #"{"x": 1}"#), (id: "b", features: #"{"x": 2, "new": 3}"#)])
        var batch = SnapshotBatch(chunk: stream, featureCount: parser.featureCount, expectedRows: 2)
        var outcomes: [SnapshotRowParser.Outcome] = []
        var decoder = PostgresBinaryCopyDecoder()
        try stream.withUnsafeBytes { bytes in
            let base = try #require(bytes.baseAddress)
            try decoder.decode(bytes: bytes) { row in outcomes.append(try parser.parse(row, into: &batch, chunkBase: base)) }
        }
        #expect(outcomes.map { $0 == .added } == [true, false])
        #expect(batch.count == 1)
        #expect(batch.slots.count == 1)
        #expect(batch.predictionID.count == 1)
        #expect(parser.stats.rows == 1)
    }
}
