import Testing
@testable import SluiceConfiguration

@Suite struct DurationFormatTests {
    @Test(arguments: [
        ("250ms", 250),
        ("30s", 30 * Milliseconds.second),
        ("5m", 5 * Milliseconds.minute),
        ("1h", Milliseconds.hour),
        ("7d", 7 * Milliseconds.day),
        ("1h30m", Milliseconds.hour + 30 * Milliseconds.minute),
        ("2d12h", 2 * Milliseconds.day + 12 * Milliseconds.hour),
        ("1m500ms", Milliseconds.minute + 500),
        ("0s", 0),
    ] as [(String, Int64)])
    func parsesUnitsAndCombinations(text: String, milliseconds: Int64) throws {
        #expect(try DurationFormat.parseMilliseconds(text).get() == milliseconds)
        #expect(try DurationFormat.parse(text).get() == .milliseconds(milliseconds))
    }

    @Test func plainIntegerIsRefusedWithAUnitSuggestion() {
        guard case .failure(let issue) = DurationFormat.parse("300") else {
            Issue.record("300 without unit must be refused")
            return
        }
        #expect(issue.message.contains("'300' has no unit"))
        #expect(issue.message.contains("'300s'"))
        #expect(issue.message.contains("'300ms'"))
    }

    @Test(arguments: ["", "1.5h", "5 m", "10x", "h", "1h1h", "-5s", "5S", "99999999999999999999d", "1e3s"])
    func malformedDurationsAreRefusedNamingTheValue(text: String) {
        guard case .failure(let issue) = DurationFormat.parse(text) else {
            Issue.record("'\(text)' must be refused")
            return
        }
        #expect(text.isEmpty || issue.message.contains("'\(text)'"))
    }

    @Test func overflowIsRefused() {
        guard case .failure(let issue) = DurationFormat.parseMilliseconds("9223372036854775807d") else {
            Issue.record("overflow must be refused")
            return
        }
        #expect(issue.message.contains("too large"))
    }

    @Test(arguments: [
        (Milliseconds.hour + 30 * Milliseconds.minute, "1h30m"),
        (200, "200ms"),
        (0, "0s"),
        (7 * Milliseconds.day, "7d"),
        (Milliseconds.day + Milliseconds.second + 1, "1d1s1ms"),
    ] as [(Int64, String)])
    func formatsInTheShortestReadableForm(milliseconds: Int64, text: String) throws {
        #expect(DurationFormat.formatMilliseconds(milliseconds) == text)
        #expect(try DurationFormat.parseMilliseconds(text).get() == milliseconds)
    }

    @Test func formatThenParseRoundTripsOverManyValues() throws {
        var value: Int64 = 1
        while value < 400 * Milliseconds.day {
            #expect(try DurationFormat.parseMilliseconds(DurationFormat.formatMilliseconds(value)).get() == value)
            value = value * 7 + 3
        }
    }
}
