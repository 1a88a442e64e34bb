import Foundation
import Testing
@testable import SluiceFeatures

/// RFC 3339 parsing and formatting against fixtures from Python's datetime and rfc3339-validator
/// (scripts/fixtures/generate_rfc3339_fixtures.py).
@Suite struct RFC3339TimestampTests {
    struct Fixture: Decodable {
        struct Valid: Decodable { var text: String; var millis: Int64 }
        struct Invalid: Decodable { var text: String }
        struct Format: Decodable { var millis: Int64; var text: String }
        var valid: [Valid]
        var invalid: [Invalid]
        var format: [Format]
    }

    let fixture: Fixture

    init() throws {
        let url = DecoderTestSupport.fixturesDirectory().appendingPathComponent("decoder-rfc3339.json")
        fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test func validTimestampsParseToTheReferenceMillis() {
        #expect(fixture.valid.count >= 100)
        for c in fixture.valid {
            #expect(RFC3339Timestamp.parseMillis(c.text) == c.millis, "\(c.text)")
        }
    }

    @Test func invalidTimestampsAreRejected() {
        #expect(fixture.invalid.count >= 20)
        for c in fixture.invalid {
            #expect(RFC3339Timestamp.parseMillis(c.text) == nil, "\(c.text)")
        }
    }

    @Test func formattingMatchesTheReference() {
        for c in fixture.format {
            #expect(formatRFC3339(millis: c.millis) == c.text, "\(c.millis)")
        }
    }

    @Test func appendingBytesWritesWhatFormatReturns() {
        var bytes: [UInt8] = []
        for c in fixture.format {
            bytes.removeAll()
            RFC3339Timestamp.append(millis: c.millis, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == c.text, "\(c.millis)")
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let millis = Int64(bitPattern: state >> 20) % 400_000_000_000_000
            bytes.removeAll()
            RFC3339Timestamp.append(millis: millis, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == formatRFC3339(millis: millis), "\(millis)")
        }
    }

    @Test func formatThenParseRoundTripsEveryMillisecondInRange() {
        var random = DemoRandomGenerator(seed: 11)
        let range = EventDecoder.supportedMillis
        for _ in 0..<20_000 {
            let span = UInt64(range.upperBound - range.lowerBound)
            let ms = range.lowerBound + Int64(random.next() % span)
            #expect(RFC3339Timestamp.parseMillis(formatRFC3339(millis: ms)) == ms)
        }
        #expect(RFC3339Timestamp.parseMillis(formatRFC3339(millis: range.lowerBound)) == range.lowerBound)
        #expect(RFC3339Timestamp.parseMillis(formatRFC3339(millis: range.upperBound)) == range.upperBound)
    }

    @Test func parsedTimestampsAgreeWithFoundationsISO8601Formatter() throws {
        // Second reference: Foundation's ISO 8601 parser for the forms it supports.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for c in fixture.valid where c.text.dropFirst(10).first == "T" && c.text.contains(".") {
            let fraction = c.text.split(separator: ".")[1].prefix { $0.isNumber }
            guard fraction.count == 3 else { continue }
            let date = try #require(formatter.date(from: c.text), "\(c.text)")
            #expect(Int64((date.timeIntervalSince1970 * 1000).rounded()) == RFC3339Timestamp.parseMillis(c.text), "\(c.text)")
        }
    }

    @Test func leapSecondsAndFractionsAreHandledAsDocumented() {
        #expect(RFC3339Timestamp.parseMillis("2016-12-31T23:59:60Z") == nil)
        let base = RFC3339Timestamp.parseMillis("2026-01-01T00:00:00Z")
        #expect(base != nil)
        if let base {
            #expect(RFC3339Timestamp.parseMillis("2026-01-01T00:00:00.9999999Z") == base + 999)
            #expect(RFC3339Timestamp.parseMillis("2026-01-01t00:00:00.5z") == base + 500)
        }
    }
}
