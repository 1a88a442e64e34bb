import Foundation
import Testing
@testable import SluiceFeatures

/// Values decoded from valid payloads: types, entity ids, optional fields, duplicates, skipping, reuse.
@Suite struct EventDecoderValueTests {
    let decoder: EventDecoder
    init() throws { decoder = try DecoderTestSupport.decoder() }

    func decode(_ payload: String) throws -> DecodedEvent {
        try decoder.decode(payload, nowMillis: DecoderTestSupport.now).get()
    }

    @Test func allFieldTypesAndTheEventIDDecode() throws {
        let event = try decode(#"{"event_id":"e-7","user_id":"u-9","ts":"2025-12-31T23:00:00.250+01:00","amount":-3,"merchant":"café","count":42,"flag":false}"#)
        #expect(event.eventID == "e-7")
        #expect(event.entityID == "u-9")
        #expect(event.eventTimeMillis == RFC3339Timestamp.parseMillis("2025-12-31T22:00:00.250Z"))
        #expect(event.values == [.double(-3), .string("café"), .int(42), .bool(false)])
    }

    @Test func integerEntityAndEventIDsBecomeDecimalStrings() throws {
        let event = try decode(#"{"event_id":123,"user_id":-9223372036854775808,"ts":1767225000000,"amount":1,"merchant":"m"}"#)
        #expect(event.entityID == String(Int64.min))
        #expect(event.eventID == "123")
        #expect(try decode(#"{"user_id":4.2e1,"ts":1767225000000,"amount":1,"merchant":"m"}"#).entityID == "42")
    }

    @Test func intFieldsAcceptIntegralNumbersInAnyNotation() throws {
        for (literal, expected) in [("3.0", Int64(3)), ("3e2", 300), ("-0", 0), ("250E-2", nil), ("1.000000000000000000000001", nil), ("9223372036854775807", Int64.max), ("12.3400e2", 1234)] {
            let result = decoder.decode("{\(DecoderTestSupport.validMembers),\"count\":\(literal)}", nowMillis: DecoderTestSupport.now)
            if let expected {
                #expect(result.decoderSuccess?.values[2] == .int(expected), "\(literal)")
            } else {
                #expect(result.decoderFailure?.reason == .wrongType, "\(literal)")
            }
        }
    }

    @Test func optionalFieldsAreNullWhenAbsentOrNullAndNeverLeakFromThePreviousEvent() throws {
        var event = DecodedEvent()
        let full = Array("{\(DecoderTestSupport.validMembers),\"count\":5,\"flag\":true,\"event_id\":\"e\"}".utf8)
        #expect(full.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &event) } == nil)
        #expect(event.values[2] == .int(5) && event.values[3] == .bool(true) && event.eventID == "e")
        let sparse = Array("{\(DecoderTestSupport.validMembers),\"flag\":null}".utf8)
        #expect(sparse.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &event) } == nil)
        #expect(event.values[2] == .null && event.values[3] == .null && event.eventID == nil)
    }

    @Test func duplicateMembersLastOccurrenceWins() throws {
        let event = try decode(#"{"user_id":"a","ts":1767225000000,"amount":1,"merchant":"m","amount":2,"user_id":"b"}"#)
        #expect(event.values[0] == .double(2))
        #expect(event.entityID == "b")
    }

    @Test func unknownMembersOfEveryKindAreSkipped() throws {
        let payload = """
        { "deep": {"a": [1, -2.5e-3, "x\\"y", {"b": null}, [], {}], "c": true},
          "user_id" : "u" ,"ts":1767225000000, "s":"\\u00e9\\ud83d\\ude00", "amount":1 ,
          "list": [[[]]], "merchant":"m", "n": -0.0E+0 }\t\r\n
        """
        let event = try decode(payload)
        #expect(event.entityID == "u")
        #expect(event.values[1] == .string("m"))
    }

    @Test func keysWithEscapesStillMatchConfiguredNames() throws {
        let event = try decode(#"{"user\u005fid":"u","t\u0073":1767225000000,"amount":1,"merchant":"m"}"#)
        #expect(event.entityID == "u")
        #expect(event.eventTimeMillis == 1_767_225_000_000)
    }

    @Test func autoTimestampsReadSecondsAndMillisecondsByMagnitude() throws {
        func ts(_ literal: String) throws -> Int64 {
            try decode("{\"user_id\":\"u\",\"ts\":\(literal),\"amount\":1,\"merchant\":\"m\"}").eventTimeMillis
        }
        let seconds = 1_767_225_000
        #expect(try ts("\(seconds)") == Int64(seconds) * 1000)
        #expect(try ts("\(seconds).123") == Int64(seconds) * 1000 + 123)
        #expect(try ts("\(seconds).1239") == Int64(seconds) * 1000 + 123) // floored, like RFC 3339 fractions
        #expect(try ts("\(seconds)123") == Int64(seconds) * 1000 + 123)
        #expect(try ts("\(seconds)123.9") == Int64(seconds) * 1000 + 123)
        #expect(try ts("-1.5") == -1500)
        #expect(try ts("\"2026-01-01T00:00:00Z\"") == DecoderTestSupport.now)
    }

    @Test func epochFormatsAreNotGuessed() throws {
        let seconds = try DecoderTestSupport.decoder(format: .epochSeconds)
        // 1e11 would be milliseconds under `.auto`; as seconds it is in the year 5138.
        #expect(try seconds.decode(#"{"user_id":"u","ts":100000000000,"amount":1,"merchant":"m"}"#, nowMillis: .max - 1).get().eventTimeMillis == 100_000_000_000_000)
        #expect(try decoder.decode(#"{"user_id":"u","ts":100000000000,"amount":1,"merchant":"m"}"#, nowMillis: DecoderTestSupport.now).get().eventTimeMillis == 100_000_000_000)
        let millis = try DecoderTestSupport.decoder(format: .epochMillis)
        #expect(try millis.decode(#"{"user_id":"u","ts":1767225000,"amount":1,"merchant":"m"}"#, nowMillis: DecoderTestSupport.now).get().eventTimeMillis == 1_767_225_000)
    }

    @Test func entityFieldCanAlsoBeASchemaField() throws {
        let configuration = EventDecoderConfiguration(
            schema: EventSchema(fields: [.init(name: "user_id", type: .string), .init(name: "ts", type: .int)]),
            entityField: "user_id", eventTimeField: "ts", timestampFormat: .epochMillis
        )
        let both = try EventDecoder(configuration: configuration)
        let event = try both.decode(#"{"ts":1767225000000,"user_id":"u-5"}"#, nowMillis: DecoderTestSupport.now).get()
        #expect(event.entityID == "u-5")
        #expect(event.values == [.string("u-5"), .int(1_767_225_000_000)])
    }

    @Test func namesSharingLengthAndFirstAndLastByteAreTellApart() throws {
        // "ab_x" and "a__x" defeat the (length, first, last) perfect hash: the fallback compares all names.
        let configuration = EventDecoderConfiguration(
            schema: EventSchema(fields: [.init(name: "ab_x", type: .int), .init(name: "a__x", type: .int)]),
            entityField: "e", eventTimeField: "t", timestampFormat: .epochMillis
        )
        let decoder = try EventDecoder(configuration: configuration)
        let event = try decoder.decode(#"{"e":"1","t":5,"a__x":2,"ab_x":1,"a_bx":3}"#, nowMillis: DecoderTestSupport.now).get()
        #expect(event.values == [.int(1), .int(2)])
    }

    @Test func longNamesAndNamesSharingAPrefixMatchExactly() throws {
        let configuration = EventDecoderConfiguration(
            schema: EventSchema(fields: [
                .init(name: "transaction_amount", type: .double),
                .init(name: "merchant", type: .string, optional: true),
                .init(name: "é", type: .string, optional: true),
            ]),
            entityField: "e", eventTimeField: "t", timestampFormat: .epochMillis
        )
        let decoder = try EventDecoder(configuration: configuration)
        let payload = #"{"merchants":"no","transaction_amounts":9,"merchan":"no","transaction_amount":2.5,"e":"x","t":1,"merchant":"yes","é":"ok","é":"no"}"#
        let event = try decoder.decode(payload, nowMillis: DecoderTestSupport.now).get()
        #expect(event.values == [.double(2.5), .string("yes"), .string("ok")])
        // A configured name as the very last key, with fewer than 8 bytes left in the payload.
        let tail = try decoder.decode(#"{"transaction_amount":1,"t":1,"e":"z"}"#, nowMillis: DecoderTestSupport.now).get()
        #expect(tail.entityID == "z")
    }

    @Test func schemasWiderThanSixtyFourFieldsTrackEveryField() throws {
        let fields = (0..<70).map { EventSchema.Field(name: "f\($0)", type: .int, optional: $0 % 2 == 1) }
        let decoder = try EventDecoder(configuration: EventDecoderConfiguration(
            schema: EventSchema(fields: fields), entityField: "e", eventTimeField: "t", timestampFormat: .epochMillis
        ))
        let required = (0..<70).filter { $0 % 2 == 0 }.map { "\"f\($0)\":\($0)" }.joined(separator: ",")
        let event = try decoder.decode("{\"e\":\"x\",\"t\":1,\(required),\"f69\":7}", nowMillis: DecoderTestSupport.now).get()
        #expect(event.values[68] == .int(68) && event.values[69] == .int(7) && event.values[67] == .null)
        let missing = (0..<68).filter { $0 % 2 == 0 }.map { "\"f\($0)\":\($0)" }.joined(separator: ",")
        let error = decoder.decode("{\"e\":\"x\",\"t\":1,\(missing)}", nowMillis: DecoderTestSupport.now).decoderFailure
        #expect(error?.reason == .missingField && error?.field == "f68")
    }

    /// The member order remembered from the previous payload (`DecodedEvent.memberOrderHint`) is only
    /// a guess: whatever payload came before, decoding into a reused event gives what a fresh one gives.
    @Test func theRememberedMemberOrderNeverChangesAResult() throws {
        let payloads = [
            #"{"event_id":"e-1","user_id":"u-1","ts":1767225000000,"amount":12.5,"merchant":"m-1","count":3,"flag":true}"#,
            #"{"user_id":"u-2","event_id":"e-2","ts":1767225000001,"merchant":"m-2","amount":1}"#,
            // Names that share a prefix with the guessed ones, or extend them.
            #"{"user_idx":"no","user_id":"u-3","ts":1767225000002,"amounts":7,"amount":2,"merchant":"m-3"}"#,
            #"{"user_i":"no","user_id":"u-4","ts":1767225000003,"amount":3,"merchan":"no","merchant":"m-4"}"#,
            // An escaped spelling of a guessed name, whitespace, a skipped member in a guessed position.
            #"{"user\u005fid":"u-5" , "ts" : 1767225000004,"skip":{"a":[1,2]},"amount":4,"merchant":"m-5"}"#,
            #"{"event_id":"e-6","user_id":"u-6","ts":1767225000005,"amount":5,"merchant":"m-6","count":1,"flag":false}"#,
            // Errors in guessed positions: a wrong type, a key at the end of the payload, no ':'.
            #"{"event_id":"e-7","user_id":"u-7","ts":1767225000006,"amount":"x","merchant":"m-7"}"#,
            #"{"event_id":"e-8","user_id""#,
            #"{"event_id" "e-9","user_id":"u-9"}"#,
            #"{"event_id":"e-10","user_id":"u-10","ts":1767225000007,"amount":6,"merchant":"m-10","count":2,"flag":true}"#,
            #"{"ts":1767225000008,"amount":7,"merchant":"m-11","user_id":"u-11"}"#,
        ]
        func summary(_ error: EventDecodeError?, _ event: DecodedEvent) -> String {
            if let error { return "error \(error.reason) \(error.description)" }
            return "\(event.entityID) \(event.eventTimeMillis) \(event.eventID ?? "nil") \(event.values)"
        }
        var reused = DecodedEvent()
        for previous in payloads {
            for payload in payloads {
                _ = Array(previous.utf8).withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &reused) }
                let bytes = Array(payload.utf8)
                let got = bytes.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &reused) }
                var fresh = DecodedEvent()
                let expected = bytes.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &fresh) }
                #expect(summary(got, reused) == summary(expected, fresh), "\(payload) after \(previous)")
            }
        }
    }

    /// Thirteen-digit epoch milliseconds are read on a shortcut; every neighbour of that shape goes the
    /// general way and decodes as before.
    @Test func thirteenDigitEpochMillisDecodeLikeAnyNumber() throws {
        /// The decoded time, or the reason of the failure.
        func time(_ literal: String, _ format: EventDecoderConfiguration.TimestampFormat = .auto) throws -> String {
            let decoder = try DecoderTestSupport.decoder(format: format)
            let result = decoder.decode(#"{"user_id":"u","ts":"# + literal + #","amount":1,"merchant":"m"}"#, nowMillis: DecoderTestSupport.now)
            switch result {
            case .success(let event): return String(event.eventTimeMillis)
            case .failure(let error): return error.reason.rawValue
            }
        }
        #expect(try time("1767225000000") == "1767225000000")
        #expect(try time("1000000000000") == "1000000000000")
        #expect(try time("1767225000000", .epochMillis) == "1767225000000")
        #expect(try time("1767225000000.9") == "1767225000000")
        #expect(try time("1767225000000e0") == "1767225000000")
        #expect(try time("1767225000000E-3") == "1767225000000") // below 1e11: seconds
        #expect(try time("176722500000") == "176722500000")
        #expect(try time("1767225000") == "1767225000000")
        #expect(try time("1767225000000 ") == "1767225000000")
        #expect(try time("17672250000000") == EventDecodeError.Reason.futureTimestamp.rawValue)
        #expect(try time("0767225000000") == EventDecodeError.Reason.invalidJSON.rawValue)
        #expect(try time("-767225000000") == "-767225000000")
        #expect(try time("1767225000000", .epochSeconds) == EventDecodeError.Reason.invalidTimestamp.rawValue)
        #expect(try time("1767225000000x") == EventDecodeError.Reason.invalidJSON.rawValue)
    }
}
