/// Walks the members of one flat JSON object (a row's `features`) without building any value: each member comes
/// back as byte ranges of its key and value and the value's kind.
///
/// Nested objects and arrays are skipped over (reported with their kind, so the caller can refuse them); a JSON
/// `null` instead of an object reads as an object without members. Everything else that is not JSON throws.
struct JSONObjectScanner {
    /// One `"key": value` member. Ranges index the scanned bytes; string ranges exclude the quotes.
    struct Member {
        var keyStart: Int
        var keyEnd: Int
        /// The key holds a backslash escape (decode it with ``JSONStringDecoder`` before comparing).
        var keyEscaped: Bool
        /// The key is the one passed to `next(expecting:)`.
        var keyIsExpected: Bool
        var kind: FeatureValueKind
        var valueStart: Int
        var valueEnd: Int
        /// A string value holding a backslash escape.
        var valueEscaped: Bool
        /// A number written with a fraction or an exponent (`3.0`, `1e5`), not as a plain integer (`3`).
        var numberHasFraction: Bool
        /// A number's value, converted while scanning; nil when the number is malformed.
        var number: Double?
    }

    /// Why the bytes are not a flat JSON object.
    struct Failure: Error {
        var reason: String
    }

    let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var finished = false
    private var first = true

    /// Starts scanning; checks the opening brace.
    /// - Throws: ``Failure`` when the text is neither a JSON object nor `null`.
    init(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        self.bytes = bytes
        skipWhitespace()
        guard position < bytes.count else { throw Failure(reason: "the text is empty") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
        case UInt8(ascii: "n") where matchLiteral("null"):
            skipWhitespace()
            guard position == bytes.count else { throw Failure(reason: "text after the value at byte \(position)") }
            finished = true
        default:
            throw Failure(reason: "it is not a JSON object (it starts with '\(Character(Unicode.Scalar(bytes[position])))')")
        }
    }

    /// The next member, or nil after the closing brace.
    /// - Parameter expected: the name the member probably has (without escapes, quotes or backslashes): when the
    ///   member's name is exactly these bytes, it is taken without scanning, and `keyIsExpected` is set.
    /// - Throws: ``Failure`` naming the byte offset of malformed JSON.
    @inline(__always)
    mutating func next(expecting expected: UnsafeRawBufferPointer? = nil) throws(Failure) -> Member? {
        guard !finished else { return nil }
        skipWhitespace()
        guard position < bytes.count else { throw Failure(reason: "the object is not closed") }
        if bytes[position] == UInt8(ascii: "}") {
            position += 1
            skipWhitespace()
            guard position == bytes.count else { throw Failure(reason: "text after the object at byte \(position)") }
            finished = true
            return nil
        }
        if !first {
            guard bytes[position] == UInt8(ascii: ",") else { throw unexpected("',' or '}'") }
            position += 1
            skipWhitespace()
        }
        first = false
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw unexpected("a quoted member name") }
        let keyStart: Int
        let keyEnd: Int
        let keyEscaped: Bool
        var keyIsExpected = false
        if let expected, startsWithName(expected, at: position + 1) {
            keyStart = position + 1
            keyEnd = keyStart + expected.count
            keyEscaped = false
            keyIsExpected = true
            position = keyEnd + 1
        } else {
            (keyStart, keyEnd, keyEscaped) = try scanString()
        }
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw unexpected("':'") }
        position += 1
        skipWhitespace()
        guard position < bytes.count else { throw Failure(reason: "the object ends after a member name") }
        var member = Member(keyStart: keyStart, keyEnd: keyEnd, keyEscaped: keyEscaped, keyIsExpected: keyIsExpected, kind: .null,
                            valueStart: position, valueEnd: position, valueEscaped: false, numberHasFraction: false, number: nil)
        switch bytes[position] {
        case UInt8(ascii: "\""):
            let (start, end, escaped) = try scanString()
            member.kind = .string
            member.valueStart = start
            member.valueEnd = end
            member.valueEscaped = escaped
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            member.kind = .number
            let scanned = DecimalParser.scan(bytes, from: position)
            position = scanned.end
            member.valueEnd = position
            member.number = scanned.value
            member.numberHasFraction = scanned.hasFraction
        case UInt8(ascii: "n"):
            guard matchLiteral("null") else { throw unexpected("a value") }
            member.kind = .null
        case UInt8(ascii: "t"):
            guard matchLiteral("true") else { throw unexpected("a value") }
            member.kind = .boolean
            member.valueEnd = position
        case UInt8(ascii: "f"):
            guard matchLiteral("false") else { throw unexpected("a value") }
            member.kind = .boolean
            member.valueEnd = position
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            member.kind = bytes[position] == UInt8(ascii: "{") ? .object : .array
            try skipNested()
            member.valueEnd = position
        default:
            throw unexpected("a value")
        }
        return member
    }

    /// True when the bytes at `start` are `name` followed by the closing quote.
    @inline(__always)
    private func startsWithName(_ name: UnsafeRawBufferPointer, at start: Int) -> Bool {
        let length = name.count
        guard start + length < bytes.count, bytes[start + length] == UInt8(ascii: "\"") else { return false }
        var index = 0
        while index + 8 <= length {
            guard bytes.loadUnaligned(fromByteOffset: start + index, as: UInt64.self)
                == name.loadUnaligned(fromByteOffset: index, as: UInt64.self) else { return false }
            index += 8
        }
        while index < length {
            guard bytes[start + index] == name[index] else { return false }
            index += 1
        }
        return true
    }

    /// Scans a quoted string starting at the opening quote; returns the range inside the quotes.
    @inline(__always)
    private mutating func scanString() throws(Failure) -> (Int, Int, Bool) {
        position += 1
        let start = position
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return (start, position - 1, escaped)
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                position += 2
                continue
            }
            position += 1
        }
        throw Failure(reason: "a string starting at byte \(start - 1) is not closed")
    }

    /// Skips a nested object or array, strings included.
    private mutating func skipNested() throws(Failure) {
        var depth = 0
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                _ = try scanString()
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    position += 1
                    return
                }
            default:
                break
            }
            position += 1
        }
        throw Failure(reason: "a nested value is not closed")
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] { return false }
        position += count
        return true
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            let byte = bytes[position]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            position += 1
        }
    }

    private func unexpected(_ expected: String) -> Failure {
        guard position < bytes.count else { return Failure(reason: "the object ends where \(expected) was expected") }
        return Failure(reason: "expected \(expected) at byte \(position), found '\(Character(Unicode.Scalar(bytes[position])))'")
    }
}
