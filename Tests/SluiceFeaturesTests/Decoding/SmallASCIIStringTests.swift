import Testing
@testable import SluiceFeatures

/// The decoder's small-string shortcut builds the very `String` the public initializer builds.
@Suite struct SmallASCIIStringTests {
    @Test func layoutIsRecognizedOnThisPlatform() {
        #expect(SmallASCIIString.isSupported)
    }

    @Test func everyLengthAndEveryReadableEndMatchesThePublicInitializer() throws {
        let text = Array("Az09-_.~ !#$%&()*+,/:;<=>?@[]^`{|}".utf8)
        for length in 1...15 {
            for start in 0...(text.count - length) {
                // The buffer ends right after the string (no whole-word loads) or continues (word loads).
                for extra in [0, 1, 16] {
                    let buffer = Array(text[start..<start + length]) + Array(repeating: UInt8(ascii: "\""), count: extra)
                    try buffer.withUnsafeBufferPointer { b in
                        let p = b.baseAddress!
                        let built = try #require(SmallASCIIString.make(p, count: length, readableEnd: p + b.count))
                        let reference = String(decoding: UnsafeBufferPointer(start: p, count: length), as: UTF8.self)
                        #expect(built == reference)
                        #expect(Array(built.utf8) == Array(reference.utf8))
                        #expect(built.hashValue == reference.hashValue)
                        if SmallASCIIString.isSupported {
                            let (b0, b1) = unsafeBitCast(built, to: (UInt64, UInt64).self)
                            let (r0, r1) = unsafeBitCast(reference, to: (UInt64, UInt64).self)
                            #expect(b0 == r0 && b1 == r1)
                        }
                        var copy = built
                        copy += "!"
                        #expect(copy == reference + "!")
                    }
                }
            }
        }
    }

    @Test func nonASCIIBytesAreLeftToThePublicInitializer() {
        let bytes = Array("café".utf8)
        bytes.withUnsafeBufferPointer { b in
            #expect(SmallASCIIString.make(b.baseAddress!, count: b.count, readableEnd: b.baseAddress! + b.count) == nil)
        }
    }

    @Test func decodedIdsAndFieldsAreOrdinaryStrings() throws {
        let decoder = try DecoderTestSupport.decoder()
        let payload = Array(#"{"event_id":"e-000000123","user_id":"u-0000042","ts":1767225000000,"amount":1,"merchant":"m-0193"}"#.utf8)
        let event = try decoder.decode(payload, nowMillis: DecoderTestSupport.now).get()
        #expect(event.entityID == "u-0000042")
        #expect(event.eventID == "e-000000123")
        #expect(event.values[1] == .string("m-0193"))
        #expect(Set([event.entityID, "u-0000042"]).count == 1)
    }
}
