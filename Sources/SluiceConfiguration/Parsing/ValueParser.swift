/// A named way to turn a scalar's text into a typed value; `expected` describes valid input for messages.
package struct ValueParser<Value>: Sendable {
    /// What valid input looks like ("an integer between 1 and 64").
    package var expected: String
    /// Converts the text or explains why not.
    package var parse: @Sendable (String) -> Result<Value, ValueIssue>

    /// Creates a parser.
    package init(expected: String, parse: @escaping @Sendable (String) -> Result<Value, ValueIssue>) {
        self.expected = expected
        self.parse = parse
    }
}

extension ValueParser where Value == String {
    /// Any text, including the empty string.
    static let string = ValueParser(expected: "a string") { .success($0) }

    /// A non-empty string.
    static let nonEmptyString = ValueParser(expected: "a non-empty string") { text in
        text.isEmpty ? .failure(ValueIssue("empty value; expected a non-empty string")) : .success(text)
    }

    /// A lower-case identifier `[a-z_][a-z0-9_]*` of at most 63 characters (usable as SQL name and JSON key).
    static let identifier = ValueParser(expected: "an identifier matching [a-z_][a-z0-9_]* of at most 63 characters") { text in
        if let problem = IdentifierRules.problem(with: text) {
            return .failure(ValueIssue(problem))
        }
        return .success(text)
    }

    /// A Kafka topic name: 1…249 characters of `[a-zA-Z0-9._-]`.
    static let topic = ValueParser(expected: "a Kafka topic name of 1…249 characters from [a-zA-Z0-9._-]") { text in
        if text.isEmpty || text.count > 249 || !text.utf8.allSatisfy(isTopicByte) || text == "." || text == ".." {
            return .failure(ValueIssue("'\(text)' is not a valid Kafka topic name; expected 1…249 characters from [a-zA-Z0-9._-]"))
        }
        return .success(text)
    }

    /// `host:port` or `[ipv6]:port` with a port of 1…65535.
    static let hostPort = ValueParser(expected: "host:port, e.g. 127.0.0.1:8080") { text in
        if let problem = HostPort.problem(with: text) {
            return .failure(ValueIssue("'\(text)' is not a valid address (\(problem)); expected host:port, e.g. 127.0.0.1:8080"))
        }
        return .success(text)
    }

    /// `host:port` to listen on; port 0 picks a free port.
    static let listenAddress = ValueParser(expected: "host:port, e.g. 127.0.0.1:8080 (port 0: any free port)") { text in
        if let problem = HostPort.problem(with: text, allowAnyPort: true) {
            return .failure(ValueIssue("'\(text)' is not a valid address (\(problem)); expected host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080"))
        }
        return .success(text)
    }

    /// A comma-separated list of `host:port` Kafka bootstrap brokers.
    static let brokers = ValueParser(expected: "a comma-separated list of host:port brokers") { text in
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        for part in parts {
            if let problem = HostPort.problem(with: part) {
                return .failure(ValueIssue(
                    "'\(text)' is not a valid broker list ('\(part)': \(problem)); expected comma-separated host:port, e.g. kafka-1:9092,kafka-2:9092"))
            }
        }
        return .success(parts.joined(separator: ","))
    }

    static func isTopicByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }
}

extension ValueParser where Value == Bool {
    /// Exactly `true` or `false`; YAML 1.1 spellings such as `yes`/`on` are refused.
    static let bool = ValueParser(expected: "true or false") { text in
        switch text {
        case "true": .success(true)
        case "false": .success(false)
        default: .failure(ValueIssue("'\(text)' is not a boolean; expected true or false"))
        }
    }
}

extension ValueParser where Value == Int {
    /// A decimal integer within `range` (underscores between digits allowed: `100_000`).
    static func integer(_ range: ClosedRange<Int>) -> ValueParser<Int> {
        let expected = range.upperBound == Int.max
            ? "an integer ≥ \(range.lowerBound)" : "an integer between \(range.lowerBound) and \(range.upperBound)"
        return ValueParser(expected: expected) { text in
            guard let value = parseInteger(text) else {
                return .failure(ValueIssue("'\(text)' is not an integer; expected \(expected)"))
            }
            guard range.contains(value) else {
                return .failure(ValueIssue("\(value) is out of range; expected \(expected)"))
            }
            return .success(value)
        }
    }

    /// A byte size (`64KiB`, `1MiB`, `1000000`) within `range`.
    static func byteSize(_ range: ClosedRange<Int>) -> ValueParser<Int> {
        let expected = "\(ByteSizeFormat.expected), between \(ByteSizeFormat.format(range.lowerBound)) and \(ByteSizeFormat.format(range.upperBound))"
        return ValueParser(expected: expected) { text in
            ByteSizeFormat.parse(text).flatMap { value in
                range.contains(value)
                    ? .success(value)
                    : .failure(ValueIssue("'\(text)' (\(value) bytes) is out of range; expected \(expected)"))
            }
        }
    }

    static func parseInteger(_ text: String) -> Int? {
        var body = Substring(text)
        var sign = ""
        if let first = body.first, first == "-" || first == "+" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber, let last = body.last, last.isASCII, last.isNumber,
              !body.contains("__")
        else { return nil }
        let digits = body.filter { $0 != "_" }
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(sign + digits)
    }
}

extension ValueParser where Value == Double {
    /// A finite decimal number within `range`.
    static func number(_ range: ClosedRange<Double>) -> ValueParser<Double> {
        let expected = "a number between \(format(range.lowerBound)) and \(format(range.upperBound))"
        return ValueParser(expected: expected) { text in
            guard let value = Double(text), value.isFinite,
                  text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) })
            else {
                return .failure(ValueIssue("'\(text)' is not a number; expected \(expected)"))
            }
            guard range.contains(value) else {
                return .failure(ValueIssue("\(text) is out of range; expected \(expected)"))
            }
            return .success(value)
        }
    }

    /// A finite number greater than zero.
    static let positiveNumber = ValueParser(expected: "a number greater than 0") { text in
        guard let value = Double(text), value.isFinite,
              text.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) })
        else {
            return .failure(ValueIssue("'\(text)' is not a number; expected a number greater than 0"))
        }
        return value > 0 ? .success(value) : .failure(ValueIssue("\(text) is out of range; expected a number greater than 0"))
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension ValueParser where Value == Duration {
    /// A duration within `range` (inclusive).
    static func duration(_ range: ClosedRange<Duration>) -> ValueParser<Duration> {
        let low = DurationFormat.format(range.lowerBound)
        let high = DurationFormat.format(range.upperBound)
        let expected = "\(DurationFormat.expected), between \(low) and \(high)"
        return ValueParser(expected: expected) { text in
            DurationFormat.parse(text).flatMap { value in
                range.contains(value)
                    ? .success(value)
                    : .failure(ValueIssue("'\(text)' is out of range; expected a duration between \(low) and \(high)"))
            }
        }
    }

    /// Any duration greater than zero (up to 365 days).
    static let positiveDuration = duration(.milliseconds(1)...Duration.seconds(365 * 86_400))
    /// Any duration including zero (up to 365 days).
    static let nonNegativeDuration = duration(.zero...Duration.seconds(365 * 86_400))
}

extension ValueParser where Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    /// One of the enum's raw values, spelled exactly.
    static func oneOf(_ type: Value.Type) -> ValueParser<Value> {
        let cases = Value.allCases.map { (name: $0.rawValue, value: $0) }
        let names = cases.map(\.name).joined(separator: ", ")
        return ValueParser(expected: "one of \(names)") { text in
            if let match = cases.first(where: { $0.name == text }) {
                return .success(match.value)
            }
            var message = "'\(text)' is not valid; expected one of \(names)"
            if let near = EditDistance.closest(to: text, among: cases.map(\.name)) {
                message += " (did you mean '\(near)'?)"
            }
            return .failure(ValueIssue(message))
        }
    }
}
