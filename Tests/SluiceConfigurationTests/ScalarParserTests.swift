import Testing
@testable import SluiceConfiguration

@Suite struct ScalarParserTests {
    @Test func booleansAreStrict() throws {
        #expect(try ValueParser<Bool>.bool.parse("true").get() == true)
        #expect(try ValueParser<Bool>.bool.parse("false").get() == false)
        for text in ["yes", "no", "on", "off", "True", "1", "0", ""] {
            guard case .failure(let issue) = ValueParser<Bool>.bool.parse(text) else {
                Issue.record("'\(text)' must not be a boolean")
                continue
            }
            #expect(issue.message == "'\(text)' is not a boolean; expected true or false")
        }
    }

    @Test func integersAcceptUnderscoreGroupsAndCheckRange() throws {
        let parser = ValueParser<Int>.integer(1...1_000_000)
        #expect(try parser.parse("100_000").get() == 100_000)
        #expect(try parser.parse("+42").get() == 42)
        for text in ["1.0", "1e3", "_1", "1_", "1__0", "abc", ""] {
            #expect(throws: ValueIssue.self) { try parser.parse(text).get() }
        }
        guard case .failure(let issue) = parser.parse("0") else {
            Issue.record("0 is out of range")
            return
        }
        #expect(issue.message == "0 is out of range; expected an integer between 1 and 1000000")
    }

    @Test func numbersRefuseNonFiniteValues() throws {
        let parser = ValueParser<Double>.number(0...1)
        #expect(try parser.parse("0.25").get() == 0.25)
        for text in ["nan", "inf", "-inf", "0x1p-2", "1.5", "-0.1"] {
            #expect(throws: ValueIssue.self) { try parser.parse(text).get() }
        }
    }

    @Test func identifiersFollowTheSQLColumnRule() {
        #expect(IdentifierRules.problem(with: "amount_mean_24h") == nil)
        #expect(IdentifierRules.problem(with: "_x") == nil)
        #expect(IdentifierRules.problem(with: String(repeating: "a", count: 63)) == nil)
        #expect(IdentifierRules.problem(with: String(repeating: "a", count: 64))?.contains("at most 63") == true)
        for bad in ["", "1abc", "Amount", "amount-1", "amount.x", "ämount"] {
            #expect(IdentifierRules.problem(with: bad) != nil, "'\(bad)' must be refused")
        }
    }

    @Test func hostPortAcceptsNamesIPv4AndBracketedIPv6() {
        for good in ["127.0.0.1:8080", "kafka-1:9092", "[::1]:9092", "0.0.0.0:1"] {
            #expect(HostPort.problem(with: good) == nil, "'\(good)'")
        }
        for bad in ["localhost", ":9092", "host:0", "host:65536", "::1:9092", "[::1]9092", "host:80a"] {
            #expect(HostPort.problem(with: bad) != nil, "'\(bad)' must be refused")
        }
    }
}
