import Testing
@testable import SluiceFeatures

/// The member loop's shortcut for the compact separator `,"` against the general path (whitespace
/// around ',' and before the next name): the same events, and the same errors at the same bytes.
@Suite struct MemberSeparatorTests {
    let decoder: EventDecoder
    init() throws { decoder = try DecoderTestSupport.decoder() }

    static let members = [#""event_id":"e-1""#, #""user_id":"u-1""#, #""ts":1767225000000"#, #""amount":12.5"#, #""merchant":"m-1""#, #""note":[1,{"a":null}]"#, #""flag":true"#]

    @Test(arguments: [",", ", ", " ,", " , ", ",\n\t", "\r\n,\r\n"])
    func everySeparatorDecodesLikeTheCompactOne(separator: String) throws {
        let compact = try decoder.decode("{" + Self.members.joined(separator: ",") + "}", nowMillis: DecoderTestSupport.now).get()
        // Twice with one event: the second decode follows the member order hint of the first.
        var event = DecodedEvent()
        for _ in 0..<2 {
            let payload = Array(("{" + Self.members.joined(separator: separator) + "}").utf8)
            let error = payload.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &event) }
            #expect(error == nil)
            #expect(event.entityID == compact.entityID)
            #expect(event.eventID == compact.eventID)
            #expect(event.eventTimeMillis == compact.eventTimeMillis)
            #expect(event.values == compact.values)
        }
    }

    @Test(arguments: [
        // payload, byte offset of the error, expectation in the message
        (#"{"user_id":"u-1",}"#, 17, "expected '\"' to start an object member name"),
        (#"{"user_id":"u-1", }"#, 18, "expected '\"' to start an object member name"),
        (#"{"user_id":"u-1",,"ts":1}"#, 17, "expected '\"' to start an object member name"),
        (#"{"user_id":"u-1""ts":1}"#, 16, "expected ',' or '}' after object member"),
        (#"{"user_id":"u-1",""#, 18, "unterminated string"),
        (#"{"user_id":"u-1","#, 17, "expected '\"' to start an object member name"),
        (#"{"user_id":"u-1","ts"}"#, 21, "expected ':' after object member name"),
    ] as [(String, Int, String)])
    func separatorErrorsNameTheByteAndExpectation(payload: String, offset: Int, expectation: String) throws {
        var event = DecodedEvent()
        // After a valid event (a member order hint is in place) and without one.
        for warm in [false, true] {
            if warm {
                let valid = Array(("{" + Self.members.joined(separator: ",") + "}").utf8)
                _ = valid.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &event) }
            }
            let bytes = Array(payload.utf8)
            let error = try #require(bytes.withUnsafeBytes { decoder.decode($0, nowMillis: DecoderTestSupport.now, into: &event) })
            #expect(error.reason == .invalidJSON, "\(payload)")
            #expect(error.byteOffset == offset, "\(payload): \(error.message)")
            #expect(error.message.contains(expectation), "\(payload): \(error.message)")
        }
    }
}
