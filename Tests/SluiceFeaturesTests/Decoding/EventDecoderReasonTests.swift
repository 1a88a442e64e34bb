import Testing
@testable import SluiceFeatures

/// Every reason code, each produced by a real malformed payload.
@Suite struct EventDecoderReasonTests {
    let decoder: EventDecoder
    init() throws { decoder = try DecoderTestSupport.decoder() }

    func reason(_ payload: [UInt8], decoder: EventDecoder? = nil) -> EventDecodeError? {
        (decoder ?? self.decoder).decode(payload, nowMillis: DecoderTestSupport.now).decoderFailure
    }

    func reason(_ payload: String) -> EventDecodeError? { reason(Array(payload.utf8)) }

    @Test func validEventDecodes() throws {
        let event = try #require(decoder.decode("{\(DecoderTestSupport.validMembers)}", nowMillis: DecoderTestSupport.now).decoderSuccess)
        #expect(event.entityID == "u-1")
        #expect(event.eventTimeMillis == 1_767_225_000_000)
        #expect(event.values == [.double(12.5), .string("m-1"), .null, .null])
        #expect(event.eventID == nil)
    }

    @Test func oversizedPayloadIsRejectedBeforeScanning() throws {
        let small = try DecoderTestSupport.decoder(maxPayloadBytes: 64)
        let payload = Array("{\(DecoderTestSupport.validMembers),\"pad\":\"\(String(repeating: "x", count: 40))\"}".utf8)
        let error = try #require(reason(payload, decoder: small))
        #expect(error.reason == .oversized)
        #expect(error.message.contains("\(payload.count) bytes"))
        #expect(error.message.contains("64"))
    }

    @Test(arguments: [
        [0xFF] as [UInt8],            // never valid
        [0xC0, 0x80],                 // overlong NUL
        [0xE0, 0x80, 0x80],           // overlong
        [0xED, 0xA0, 0x80],           // UTF-16 surrogate encoded in UTF-8
        [0xF4, 0x90, 0x80, 0x80],     // above U+10FFFF
        [0xC3],                       // truncated sequence before the closing quote
        [0x80],                       // lone continuation byte
    ])
    func invalidUTF8InAStringIsRejected(badBytes: [UInt8]) throws {
        let payload = Array("{\(DecoderTestSupport.validMembers),\"note\":\"a".utf8) + badBytes + Array("b\"}".utf8)
        let error = try #require(reason(payload))
        #expect(error.reason == .invalidUTF8)
        #expect(error.byteOffset == payload.count - badBytes.count - 3)
    }

    @Test func invalidUTF8InAConfiguredValueIsRejected() throws {
        let payload = Array(#"{"user_id":"u-"#.utf8) + [0xFE] + Array(#"","ts":1767225000000,"amount":1,"merchant":"m"}"#.utf8)
        #expect(reason(payload)?.reason == .invalidUTF8)
    }

    @Test(arguments: [
        "",
        "   ",
        "{",
        "{\"user_id\":\"u-1\"",
        "{\"user_id\" \"u-1\"}",
        "{\"user_id\":\"u-1\",}",
        "{,\"user_id\":\"u-1\"}",
        "{user_id:\"u-1\"}",
        "{\"user_id\":'u-1'}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":+1}",
        "{\"a\":-}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "{\"a\":[1,2,]}",
        "{\"a\":[1 2]}",
        "{\"a\":{\"b\":1}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\uD800\"}",
        "{\"a\":\"\\uDC00\"}",
        "{\"a\":\"\\uD800\\u0041\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"unterminated}",
        "{} {}",
        "{}x",
        "\u{FEFF}{}",
    ])
    func syntaxErrorsAreInvalidJSON(payload: String) throws {
        let error = try #require(reason(payload))
        #expect(error.reason == .invalidJSON)
        #expect(error.message.hasPrefix("invalid JSON at byte "))
    }

    @Test func syntaxErrorAfterTheWantedFieldsStillRejects() throws {
        let payload = "{\(DecoderTestSupport.validMembers),\"extra\":[1,2}"
        let error = try #require(reason(payload))
        #expect(error.reason == .invalidJSON)
        let offset = payload.utf8.count - 1 // the '}' closing the array
        #expect(error.message == "invalid JSON at byte \(offset): expected ',' or ']' after array element, found '}'")
    }

    @Test func missingCommaNamesTheByteAndExpectation() throws {
        let payload = "{\"user_id\":\"u-1\" \"ts\":1}"
        let error = try #require(reason(payload))
        #expect(error.message == "invalid JSON at byte 17: expected ',' or '}' after object member, found '\"'")
        #expect(error.byteOffset == 17)
    }

    @Test func nestingBeyondTheLimitIsInvalidJSON() throws {
        let shallow = try DecoderTestSupport.decoder(maxNestingDepth: 3)
        let ok = "{\(DecoderTestSupport.validMembers),\"x\":{\"y\":[1]}}"
        #expect(shallow.decode(ok, nowMillis: DecoderTestSupport.now).decoderSuccess != nil)
        let deep = "{\(DecoderTestSupport.validMembers),\"x\":{\"y\":[[1]]}}"
        let error = try #require(reason(Array(deep.utf8), decoder: shallow))
        #expect(error.reason == .invalidJSON)
        #expect(error.message.contains("nesting deeper than the limit of 3"))
        // The default limit (64) with 10,000 levels: no stack overflow, a clean error.
        let bomb = "{\"x\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(reason(bomb)?.reason == .invalidJSON)
    }

    @Test(arguments: ["[1,2]", "\"text\"", "42", "true", "null", " [] "])
    func topLevelNonObjectsAreNotObject(payload: String) throws {
        let error = try #require(reason(payload))
        #expect(error.reason == .notObject)
        #expect(error.message.hasPrefix("expected a JSON object at the top level, got "))
    }

    @Test func invalidNonObjectIsInvalidJSONNotNotObject() {
        #expect(reason("[1,2")?.reason == .invalidJSON)
    }

    @Test(arguments: [
        #"{"ts":1767225000000,"amount":1,"merchant":"m"}"#,
        #"{"user_id":null,"ts":1767225000000,"amount":1,"merchant":"m"}"#,
        #"{"user_id":"","ts":1767225000000,"amount":1,"merchant":"m"}"#,
    ])
    func absentNullOrEmptyEntityIsMissingEntity(payload: String) throws {
        let error = try #require(reason(payload))
        #expect(error.reason == .missingEntity)
        #expect(error.field == "user_id")
    }

    @Test(arguments: [
        (#"{"user_id":"u","amount":1,"merchant":"m"}"#, "ts"),
        (#"{"user_id":"u","ts":null,"amount":1,"merchant":"m"}"#, "ts"),
        (#"{"user_id":"u","ts":1767225000000,"merchant":"m"}"#, "amount"),
        (#"{"user_id":"u","ts":1767225000000,"amount":null,"merchant":"m"}"#, "amount"),
        (#"{"user_id":"u","ts":1767225000000,"amount":1}"#, "merchant"),
    ])
    func absentOrNullRequiredFieldIsMissingField(payload: String, field: String) throws {
        let error = try #require(reason(payload))
        #expect(error.reason == .missingField)
        #expect(error.field == field)
        #expect(error.message.contains("'\(field)'"))
    }

    @Test func wrongTypeMessageNamesFieldValueAndExpectation() throws {
        let error = try #require(reason(#"{"user_id":"u","ts":1767225000000,"amount":"12.5x","merchant":"m"}"#))
        #expect(error.reason == .wrongType)
        #expect(error.message == #"field 'amount': expected a JSON number (double), got string "12.5x""#)
    }

    @Test(arguments: [
        (#""amount":true"#, "amount"),
        (#""amount":{"v":1}"#, "amount"),
        (#""merchant":12"#, "merchant"),
        (#""merchant":["m"]"#, "merchant"),
        (#""count":1.5"#, "count"),
        (#""count":"3""#, "count"),
        (#""flag":1"#, "flag"),
        (#""user_id":true"#, "user_id"),
        (#""user_id":1.5"#, "user_id"),
        (#""event_id":{}"#, "event_id"),
    ])
    func wrongJSONTypesAreWrongType(member: String, field: String) throws {
        // The later occurrence of a duplicate wins for the value, but an invalid one rejects.
        let error = try #require(reason("{\(DecoderTestSupport.validMembers),\(member)}"))
        #expect(error.reason == .wrongType)
        #expect(error.field == field)
    }

    @Test func longOffendingValuesAreTruncatedInMessages() throws {
        let long = String(repeating: "é", count: 100)
        let error = try #require(reason("{\(DecoderTestSupport.validMembers),\"amount\":\"\(long)\"}"))
        #expect(error.message.hasSuffix("…\""))
        #expect(error.message.count < 120)
        #expect(error.message.contains(String(repeating: "é", count: 20)))
    }

    @Test(arguments: [
        (#""amount":1e400"#, "amount"),
        (#""amount":-1e400"#, "amount"),
        (#""count":9223372036854775808"#, "count"),
        (#""count":-9223372036854775809"#, "count"),
        (#""count":1e19"#, "count"),
        (#""user_id":123456789012345678901234567890"#, "user_id"),
    ])
    func unrepresentableNumbersAreInvalidNumber(member: String, field: String) throws {
        let error = try #require(reason("{\(DecoderTestSupport.validMembers),\(member)}"))
        #expect(error.reason == .invalidNumber)
        #expect(error.field == field)
    }

    @Test(arguments: [
        #""ts":"2026-02-30T10:00:00Z""#,
        #""ts":"yesterday""#,
        #""ts":true"#,
        #""ts":[1]"#,
        #""ts":1e30"#,
        #""ts":-1e20"#,
    ])
    func badTimestampsAreInvalidTimestamp(member: String) throws {
        let error = try #require(reason("{\(DecoderTestSupport.validMembers),\(member)}"))
        #expect(error.reason == .invalidTimestamp)
        #expect(error.field == "ts")
    }

    @Test func timestampFormatsRestrictAcceptedEncodings() throws {
        let rfcOnly = try DecoderTestSupport.decoder(format: .rfc3339)
        #expect(rfcOnly.decode(#"{"user_id":"u","ts":1767225000000,"amount":1,"merchant":"m"}"#, nowMillis: DecoderTestSupport.now).decoderFailure?.reason == .invalidTimestamp)
        let millisOnly = try DecoderTestSupport.decoder(format: .epochMillis)
        #expect(millisOnly.decode(#"{"user_id":"u","ts":"2026-01-01T00:00:00Z","amount":1,"merchant":"m"}"#, nowMillis: DecoderTestSupport.now).decoderFailure?.reason == .invalidTimestamp)
    }

    @Test func eventsTooFarInTheFutureAreFutureTimestamp() throws {
        let hour: Int64 = 3_600_000
        let atLimit = "{\"user_id\":\"u\",\"ts\":\(DecoderTestSupport.now + hour),\"amount\":1,\"merchant\":\"m\"}"
        #expect(decoder.decode(atLimit, nowMillis: DecoderTestSupport.now).decoderSuccess != nil)
        let beyond = "{\"user_id\":\"u\",\"ts\":\(DecoderTestSupport.now + hour + 1),\"amount\":1,\"merchant\":\"m\"}"
        let error = try #require(reason(beyond))
        #expect(error.reason == .futureTimestamp)
        #expect(error.message.contains("2026-01-01T01:00:00.001Z"))
    }

    @Test func reasonCodesAreTheStableDLQStrings() {
        #expect(EventDecodeError.Reason.allCases.map(\.rawValue) == [
            "oversized", "invalid_utf8", "invalid_json", "not_object", "missing_entity", "missing_field",
            "wrong_type", "invalid_number", "invalid_timestamp", "future_timestamp", "late",
        ])
    }

    @Test func errorPriorityPrefersSyntaxOverFieldErrors() throws {
        // A wrong type early and a syntax error later: the syntax error wins.
        #expect(reason(#"{"user_id":"u","ts":1767225000000,"amount":"x","merchant":"m",}"#)?.reason == .invalidJSON)
        // Two field errors: the first in document order wins.
        #expect(reason(#"{"user_id":"u","ts":1767225000000,"amount":"x","merchant":1}"#)?.field == "amount")
    }

    @Test func invalidConfigurationsAreRejected() {
        var configuration = DecoderTestSupport.configuration()
        configuration.maxNestingDepth = 0
        #expect(throws: EventDecoderConfigurationError.self) { try EventDecoder(configuration: configuration) }
        configuration = DecoderTestSupport.configuration()
        configuration.schema.fields.append(.init(name: "amount", type: .int))
        #expect(throws: EventDecoderConfigurationError.self) { try EventDecoder(configuration: configuration) }
        configuration = DecoderTestSupport.configuration()
        configuration.entityField = ""
        #expect(throws: EventDecoderConfigurationError.self) { try EventDecoder(configuration: configuration) }
    }
}
