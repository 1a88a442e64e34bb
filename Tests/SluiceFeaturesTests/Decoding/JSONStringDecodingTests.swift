import Foundation
import Testing
@testable import SluiceFeatures

/// Strings with escapes, Unicode and surrogate pairs, checked against Foundation's JSON reading and writing.
@Suite struct JSONStringDecodingTests {
    let decoder: EventDecoder
    init() throws { decoder = try DecoderTestSupport.decoder() }

    /// Decodes `literal` (a JSON string literal with quotes) as the merchant field.
    func merchant(_ literal: [UInt8]) -> Result<DecodedEvent, EventDecodeError> {
        let payload = Array(#"{"user_id":"u","ts":1767225000000,"amount":1,"merchant":"#.utf8) + literal + [UInt8(ascii: "}")]
        return decoder.decode(payload, nowMillis: DecoderTestSupport.now)
    }

    @Test(arguments: [
        #""plain""#, #""""#, #""\"quoted\" \\ back\/slash""#, #""\b\f\n\r\t""#, #""\u0000\u001f\u007F""#,
        #""\u00e9\u00C9 caf\u00e9""#, #""\u20AC \u4e2d\u6587""#, #""\ud83d\ude00 \uD834\uDD1E""#,
        #""mixed é 😀 \u00e9\ud83d\ude00""#, #""\uFFFF\uFEFF\u0080""#,
        "\"\u{10FFFF}\u{80}\u{7FF}\u{800}\u{FFFD}\"",
    ])
    func trickyLiteralsDecodeLikeFoundation(literal: String) throws {
        let bytes = Array(literal.utf8)
        let expected = try #require(DecoderTestSupport.foundationObject(bytes) as? String)
        let event = try merchant(bytes).get()
        #expect(event.values[1] == .string(expected))
    }

    @Test func randomStringsRoundTripThroughFoundationsEncoderAndOurOwnEscaping() throws {
        var random = DemoRandomGenerator(seed: 7)
        let pools: [ClosedRange<UInt32>] = [0x00...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for _ in 0..<500 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<random.nextIndex(below: 24) {
                let pool = pools[random.nextIndex(below: pools.count)]
                let value = pool.lowerBound + UInt32(random.nextIndex(below: Int(pool.upperBound - pool.lowerBound) + 1))
                if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
            }
            let original = String(scalars)
            // Reference encoder.
            let data = try JSONSerialization.data(withJSONObject: [original], options: [])
            let array = Array(data)
            let encoded = Array(array[1..<(array.count - 1)]) // strip [ ]
            #expect(try merchant(encoded).get().values[1] == .string(original))
            // Everything escaped as \uXXXX, astral characters as surrogate pairs.
            var escaped = "\""
            for unit in original.utf16 { escaped += "\\u" + String(format: "%04X", unit) }
            escaped += "\""
            #expect(try merchant(Array(escaped.utf8)).get().values[1] == .string(original))
        }
    }

    @Test func longAndNonASCIIStringsCrossTheEightByteFastPathCorrectly() throws {
        for length in 0..<40 {
            for position in 0..<max(length, 1) {
                var chars = Array(repeating: Character("a"), count: length)
                if length > 0 { chars[position] = "\u{00e9}" }
                let text = String(chars)
                let expected = try #require(DecoderTestSupport.foundationObject(Array("\"\(text)\"".utf8)) as? String)
                #expect(try merchant(Array("\"\(text)\"".utf8)).get().values[1] == .string(expected))
            }
        }
    }
}
