import Testing
@testable import SluiceFeatures

/// Numbers: `double` fields against Swift's own correctly rounded `Double(String)`; `int` fields against `Int64(String)`.
@Suite struct JSONNumberParsingTests {
    let decoder: EventDecoder
    init() throws { decoder = try DecoderTestSupport.decoder() }

    func amount(_ literal: String) -> Result<DecodedEvent, EventDecodeError> {
        decoder.decode("{\"user_id\":\"u\",\"ts\":1767225000000,\"merchant\":\"m\",\"amount\":\(literal)}", nowMillis: DecoderTestSupport.now)
    }

    func check(_ literal: String) {
        let reference = Double(literal)
        let result = amount(literal)
        guard let reference, reference.isFinite else {
            #expect(result.decoderFailure?.reason == .invalidNumber, "\(literal)")
            return
        }
        guard case .success(let event) = result, case .double(let value) = event.values[0] else {
            Issue.record("\(literal) was rejected: \(String(describing: result.decoderFailure))")
            return
        }
        #expect(value.bitPattern == reference.bitPattern, "\(literal): got \(value), expected \(reference)")
    }

    @Test(arguments: [
        "0", "-0", "-0.0", "0e0", "0.0e-999999999", "-0e+5", "1", "-1", "12.5", "0.1", "0.2", "0.3",
        "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615", "18446744073709551616",
        "123456789012345678901234567890", "1e22", "1e23", "1.5e22", "9007199254740993e1", "1e-22", "1e-23",
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e308", "1e309", "-1e309",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
        "2.4703282292062328e-324", "1e-400", "0.1000000000000000055511151231257827021181583404541015625",
        "0.30000000000000004", "3.0000000000000004", "7.038531e-26", "8.98846567431158e307", "4.35679e-321",
        "1234567890123456789", "12345678901234567890", "0.00000000000000000000000000000001", "1e-5", "123e-2",
        "99999999999999999999999999999999999999e-40", "1E2", "1e+2", "2.5E-3",
    ])
    func edgeCasesMatchDoubleFromString(literal: String) {
        check(literal)
    }

    @Test func randomDecimalsMatchDoubleFromString() {
        var random = DemoRandomGenerator(seed: 99)
        for _ in 0..<20_000 {
            var literal = random.nextIndex(below: 4) == 0 ? "-" : ""
            let intDigits = random.nextIndex(below: 22)
            if intDigits == 0 {
                literal += "0"
            } else {
                literal += String(1 + random.nextIndex(below: 9))
                for _ in 1..<intDigits { literal += String(random.nextIndex(below: 10)) }
            }
            if random.nextIndex(below: 2) == 0 {
                literal += "."
                for _ in 0...random.nextIndex(below: 22) { literal += String(random.nextIndex(below: 10)) }
            }
            if random.nextIndex(below: 2) == 0 {
                literal += ["e", "E", "e-", "e+", "E-"][random.nextIndex(below: 5)]
                literal += String(random.nextIndex(below: 340))
            }
            check(literal)
        }
    }

    @Test func randomDoublesPrintedShortestRoundTrip() {
        var random = DemoRandomGenerator(seed: 5)
        for _ in 0..<20_000 {
            let value = Double(bitPattern: random.next())
            guard value.isFinite else { continue }
            check(value.description)
            check(String(value.description.replacingOccurrences(of: "e", with: "E")))
        }
    }

    @Test func integersMatchInt64FromString() throws {
        var random = DemoRandomGenerator(seed: 3)
        var literals = ["0", "-0", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "10000000000000000000"]
        for _ in 0..<5_000 {
            let magnitude = random.next() >> UInt64(random.nextIndex(below: 64))
            literals.append((random.nextIndex(below: 2) == 0 ? "-" : "") + String(magnitude))
        }
        for literal in literals {
            let result = decoder.decode("{\(DecoderTestSupport.validMembers),\"count\":\(literal)}", nowMillis: DecoderTestSupport.now)
            if let reference = Int64(literal) {
                #expect(result.decoderSuccess?.values[2] == .int(reference), "\(literal)")
            } else {
                #expect(result.decoderFailure?.reason == .invalidNumber, "\(literal)")
            }
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
