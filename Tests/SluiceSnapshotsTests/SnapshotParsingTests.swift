import Foundation
import SluiceKafka
import Testing

@testable import SluiceSnapshots

@Suite("Snapshot parsing, ids, split rule and request checks")
struct SnapshotParsingTests {
    private func parse(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { DecimalParser.parse(UnsafeRawBufferPointer($0)) }
    }

    private func expectSameAsStandardLibrary(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = Double(text)
        let actual = parse(text)
        #expect(actual?.bitPattern == expected?.bitPattern, "\(text): got \(String(describing: actual)), expected \(String(describing: expected))",
                sourceLocation: sourceLocation)
    }

    @Test func decimalParserMatchesTheStandardLibraryOnEdgeCases() {
        for text in ["0", "-0", "0.0", "1", "-1", "12.5", "3.0", "0.1", "0.30000000000000004", "1e300", "1E-5", "1e+22", "1e23",
                     "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615", "123456789012345678901234567890",
                     "0.000000000000000000000000000001234567890123456789012", "2.2250738585072011e-308", "2.2250738585072014e-308",
                     "4.9e-324", "5e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400", "1.7976931348623157e308",
                     "1.7976931348623158e308", "1.7976931348623159e308", "1e400", "-1e400", "7.0E-10", "1e-22", "1e22", "4503599627370497.5",
                     "8.98846567431158e307", "0.1e1", "100e-2", "00012", "-00.5"] {
            expectSameAsStandardLibrary(text)
        }
    }

    @Test func decimalParserMatchesTheStandardLibraryOnRandomNumbers() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            // Shortest round-trip text of random doubles (what the feature log holds) …
            let value = Double(bitPattern: UInt64.random(in: 0...0x7FEF_FFFF_FFFF_FFFF, using: &generator))
            expectSameAsStandardLibrary(value.description)
            expectSameAsStandardLibrary((Double.random(in: -1_000...1_000, using: &generator)).description)
            // … and random digit strings with random exponents, up to 19 significant digits.
            let digits = String((0..<Int.random(in: 1...19, using: &generator)).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            expectSameAsStandardLibrary("\(digits)e\(Int.random(in: -345...310, using: &generator))")
        }
    }

    @Test func decimalParserRefusesTextThatIsNotAJSONNumber() {
        for text in ["", "-", "1.", ".5", "1e", "1e+", "+1", "1.2.3", "NaN", "inf", "0x10", "1 ", "--1", "1e5.5"] {
            #expect(parse(text) == nil, "\(text)")
        }
    }

    @Test func splitHashMatchesTheReferenceVectors() {
        func hash(_ text: String) -> UInt64 {
            var text = text
            return text.withUTF8 { HoldoutSplit.fnv1a64(UnsafeRawBufferPointer($0)) }
        }
        #expect(hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(hash("foobar") == 0x8594_4171_f739_67e8)
        #expect(!HoldoutSplit(fraction: 0).isHoldout(entity: "a"))
        #expect(HoldoutSplit(fraction: 1).isHoldout(entity: "a"))
        #expect(HoldoutSplit.fmix64(0xaf63_dc4c_8601_ec8c) == 0x82a2_a958_a9be_ce5b)
        // 0x82a2a958a9bece5b / 2^64 ≈ 0.5103
        #expect(HoldoutSplit(fraction: 0.52).isHoldout(entity: "a"))
        #expect(!HoldoutSplit(fraction: 0.51).isHoldout(entity: "a"))
    }

    @Test func snapshotIDsAreSortableAndWellFormed() {
        let id = SnapshotID.make(createdAtMillis: 1_767_323_045_678, random: 0x9f86d081)
        #expect(id == "snap-20260102T030405Z-9f86d081")
        #expect(SnapshotID.isValid(id))
        #expect(SnapshotID.make(createdAtMillis: 0, random: 1) == "snap-19700101T000000Z-00000001")
        #expect(SnapshotID.make(createdAtMillis: 1_767_323_045_678, random: 0xffff_ffff) < SnapshotID.make(createdAtMillis: 1_767_323_046_000, random: 0))
        #expect(!SnapshotID.isValid("snap-20260102T030405Z-9F86D081"))
        #expect(!SnapshotID.isValid("../etc"))
    }

    @Test func requestValidationNamesTheField() {
        func message(_ change: (inout SnapshotRequest) -> Void) -> String? {
            var request = SnapshotRequest(directory: "/tmp/x")
            change(&request)
            do {
                try request.validate()
                return nil
            } catch {
                #expect(error.code == .invalidRequest)
                return error.message
            }
        }
        #expect(message { _ in } == nil)
        #expect(message { $0.holdoutFraction = 1.5 }?.contains("holdout fraction 1.5 is out of range") == true)
        #expect(message { $0.holdoutFraction = .nan }?.contains("holdout fraction") == true)
        #expect(message { $0.rowGroupRows = 0 }?.contains("row group size 0") == true)
        #expect(message { $0.sinceMillis = 2_000; $0.untilMillis = 1_000 }?.contains("is not before until") == true)
        #expect(message { $0.modelVersion = 3 }?.contains("model version 3 given without a model name") == true)
        #expect(message { $0.modelName = "m"; $0.modelVersion = 0 }?.contains("model version 0 is out of range") == true)
        #expect(message { $0.directory = "" }?.contains("output directory is empty") == true)
    }

    @Test func jsonScannerReadsMembersAndRefusesBrokenObjects() throws {
        func members(_ text: String) throws -> [String] {
            var text = text
            return try text.withUTF8 { buffer in
                let bytes = UnsafeRawBufferPointer(buffer)
                var scanner = try JSONObjectScanner(bytes)
                var result: [String] = []
                while let member = try scanner.next() {
                    var key: [UInt8] = []
                    try JSONStringDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[member.keyStart..<member.keyEnd]), into: &key)
                    var value: [UInt8] = []
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[member.valueStart..<member.valueEnd])
                    if member.kind == .string { try JSONStringDecoder.decode(raw, into: &value) } else { value = Array(raw) }
                    result.append("\(String(decoding: key, as: UTF8.self))=\(member.kind.jsonName):\(String(decoding: value, as: UTF8.self))")
                }
                return result
            }
        }
        #expect(try members(#" { "a" : 1.5e3 , "b\u0041" : "x\ny\ud83d\ude00" , "c": null, "d": true, "e": [1, "]"], "f": {"g": "}"} } "#)
                == ["a=number:1.5e3", "bA=string:x\ny😀", "c=null:", "d=boolean:true", "e=array:[1, \"]\"]", "f=object:{\"g\": \"}\"}"])
        #expect(try members("{}") == [])
        #expect(try members("null") == [])
        for broken in ["", "[1]", "{\"a\" 1}", "{\"a\": 1,}", "{\"a\": 1", "{\"a\": tru}", "{\"a\": \"x}", "{} x", "{\"a\": \"\\q\"}"] {
            #expect(throws: JSONObjectScanner.Failure.self, "\(broken)") { _ = try members(broken) }
        }
    }

    @Test func retrainRequestJSONHasTheDocumentedShape() throws {
        let manifest = SnapshotManifest(
            snapshotID: "snap-20260102T030405Z-9f86d081", createdAt: "2026-01-02T03:04:05.678Z", reason: .alert, alertID: "alert-1",
            model: .init(name: "fraud", version: 3),
            timeRange: .init(since: nil, until: nil, minEventTime: "2026-01-01T00:00:00.000Z", maxEventTime: "2026-01-02T00:00:00.000Z"),
            rows: 120, holdoutRows: 24, holdoutFraction: 0.2, split: nil, source: "sluice.labelled", columns: [], files: [],
            parquet: .init(compression: "snappy", rowGroupRows: 65_536, rowGroups: 1))
        let snapshot = Snapshot(manifest: manifest, directory: "/data/my snapshots/snap-20260102T030405Z-9f86d081", manifestJSON: [])
        let request = RetrainRequest(snapshot: snapshot)
        #expect(String(decoding: try request.json(), as: UTF8.self) == """
            {"alert_id":"alert-1","created_at":"2026-01-02T03:04:05.678Z","files":{"csv":"data.csv","manifest":"manifest.json",\
            "parquet":"data.parquet"},"holdout_rows":24,"model":{"name":"fraud","version":3},"reason":"alert","rows":120,\
            "snapshot_id":"snap-20260102T030405Z-9f86d081","uri":"file:///data/my%20snapshots/snap-20260102T030405Z-9f86d081/"}
            """)
        let message = try request.message(topic: "retrain-requests")
        #expect(message.key == Array("fraud".utf8))
        #expect(message.headers.first?.value == Array("snap-20260102T030405Z-9f86d081".utf8))

        var manual = request
        manual.alertID = nil
        manual.model = .init(name: nil, version: nil)
        let text = String(decoding: try manual.json(), as: UTF8.self)
        #expect(!text.contains("alert_id"), "alert_id is left out when there is no alert")
        #expect(text.contains("\"model\":{\"name\":null,\"version\":null}"))
        #expect(try manual.message(topic: "t").key == nil)
    }
}
