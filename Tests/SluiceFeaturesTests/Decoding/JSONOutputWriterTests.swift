import Foundation
import Testing
@testable import SluiceFeatures

/// The JSON output builder, read back by Foundation's JSONSerialization and by the event decoder.
@Suite struct JSONOutputWriterTests {
    @Test func nestedMessageReadsBackWithFoundation() throws {
        var writer = JSONOutputWriter()
        writer.beginObject()
        writer.key("prediction_id"); writer.string("transactions/0/42")
        writer.key("event_time"); writer.timestamp(millis: 1_767_225_600_123)
        writer.key("score"); writer.double(0.1 + 0.2)
        writer.key("n"); writer.int(-7)
        writer.key("ok"); writer.bool(true)
        writer.key("none"); writer.null()
        writer.key("model"); writer.beginObject(); writer.key("name"); writer.string("m"); writer.key("version"); writer.int(3); writer.endObject()
        writer.key("explanation"); writer.beginArray()
        for i in 0..<3 { writer.beginObject(); writer.key("feature"); writer.string("f\(i)"); writer.key("contribution"); writer.double(Double(i) / 3); writer.endObject() }
        writer.endArray()
        writer.key("empty"); writer.beginArray(); writer.endArray()
        writer.key("values"); writer.beginArray(); writer.value(.int(1)); writer.value(.string("x")); writer.value(.null); writer.value(.double(-0.0)); writer.endArray()
        writer.endObject()

        let object = try #require(DecoderTestSupport.foundationObject(writer.bytes) as? [String: Any])
        #expect(object["prediction_id"] as? String == "transactions/0/42")
        #expect(object["event_time"] as? String == formatRFC3339(millis: 1_767_225_600_123))
        // Foundation on Linux reads "0.30000000000000004" as 0.3000000000000001 (not correctly rounded),
        // so exactness is checked against Double(String) in doublesAreShortestRoundTripAndNonFiniteIsNull.
        #expect(abs(((object["score"] as? NSNumber)?.doubleValue ?? 0) - (0.1 + 0.2)) < 1e-15)
        #expect((object["n"] as? NSNumber)?.int64Value == -7)
        #expect(object["ok"] as? Bool == true)
        #expect(object["none"] is NSNull)
        #expect(((object["model"] as? [String: Any])?["version"] as? NSNumber)?.intValue == 3)
        let explanation = try #require(object["explanation"] as? [[String: Any]])
        #expect(explanation.count == 3)
        #expect(abs(((explanation[2]["contribution"] as? NSNumber)?.doubleValue ?? 0) - 2.0 / 3) < 1e-15)
        #expect((object["empty"] as? [Any])?.isEmpty == true)
        #expect((object["values"] as? [Any])?.count == 4)
    }

    @Test func stringsWithControlCharactersQuotesAndUnicodeRoundTrip() throws {
        var random = DemoRandomGenerator(seed: 4)
        var writer = JSONOutputWriter()
        for _ in 0..<500 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<random.nextIndex(below: 20) {
                let choice = random.nextIndex(below: 4)
                let value: UInt32 = choice == 0 ? UInt32(random.nextIndex(below: 0x20)) : choice == 1 ? [0x22, 0x5C, 0x2F, 0x7F][random.nextIndex(below: 4)] : UInt32(random.nextIndex(below: 0x10FFFF))
                if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
            }
            let text = String(scalars)
            writer.reset()
            writer.beginObject(); writer.key(text); writer.string(text); writer.endObject()
            #expect(!writer.bytes.contains { $0 < 0x20 }, "raw control character in output")
            let object = try #require(DecoderTestSupport.foundationObject(writer.bytes) as? [String: String])
            #expect(object == [text: text])
        }
    }

    @Test func doublesAreShortestRoundTripAndNonFiniteIsNull() throws {
        var random = DemoRandomGenerator(seed: 8)
        for _ in 0..<2_000 {
            let value = Double(bitPattern: random.next())
            var writer = JSONOutputWriter()
            writer.beginArray(); writer.double(value); writer.endArray()
            let parsed = try #require(DecoderTestSupport.foundationObject(writer.bytes) as? [Any])
            if value.isFinite {
                #expect(writer.string == "[\(value.description)]")
                #expect(Double(String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self))?.bitPattern == value.bitPattern)
            } else {
                #expect(parsed.first is NSNull)
                #expect(writer.string == "[null]")
            }
        }
    }

    @Test func writtenEventsDecodeBackThroughTheEventDecoder() throws {
        let decoder = try DecoderTestSupport.decoder()
        var writer = JSONOutputWriter()
        writer.beginObject()
        writer.key("user_id"); writer.string("u\n\"1\"")
        writer.key("ts"); writer.timestamp(millis: 1_767_225_000_123)
        writer.key("amount"); writer.double(12.34)
        writer.key("merchant"); writer.string("caf\u{e9} \u{1}")
        writer.endObject()
        let event = try decoder.decode(writer.bytes, nowMillis: DecoderTestSupport.now).get()
        #expect(event.entityID == "u\n\"1\"")
        #expect(event.eventTimeMillis == 1_767_225_000_123)
        #expect(event.values[0] == .double(12.34))
        #expect(event.values[1] == .string("caf\u{e9} \u{1}"))
    }
}
