import Testing
@testable import SluiceFeatures

/// `JSONNumberText` must write exactly what `description` writes, so the feature log's and the predictions' JSON
/// text is unchanged by the faster path.
@Suite struct JSONNumberTextTests {
    @Test func doublesMatchDescription() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.30000000000000004, 1e-5, 1e-7, 123_456_789.125, 1e15, 1e16, 9_007_199_254_740_993,
                                .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .pi]
        for _ in 0..<20_000 {
            values.append(Double(bitPattern: generator.next()))  // every exponent, NaN and infinities included
            values.append(Double.random(in: -1e6...1e6, using: &generator))
            values.append(Double(Int64.random(in: -1_000_000...1_000_000, using: &generator)) / 100)
        }
        // Callers write null for NaN and the infinities (JSON has no such numbers), so only finite values are checked.
        for value in values where value.isFinite {
            var bytes: [UInt8] = Array("x".utf8)
            JSONNumberText.append(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == "x" + value.description, "\(value.bitPattern)")
        }
    }

    @Test func integersMatchDescription() {
        var generator = SystemRandomNumberGenerator()
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, .max, .min, .max - 1, .min + 1]
        for _ in 0..<20_000 { values.append(Int64(bitPattern: generator.next())); values.append(Int64.random(in: -1000...1000, using: &generator)) }
        for value in values {
            var bytes: [UInt8] = []
            JSONNumberText.append(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == value.description)
        }
    }
}
