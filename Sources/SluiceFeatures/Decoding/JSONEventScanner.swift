/// The single-pass byte scanner under `EventDecoder`: validates JSON syntax, UTF-8 and nesting
/// while it walks the payload once, and hands the members the decoder asked for to it.
///
/// All reads go through `base[i]` with `i < count` checked by hand; `peek()` returns 0 at the end,
/// a byte no JSON grammar rule accepts, so "end of input" falls into the ordinary error branches.
struct JSONEventScanner {
    let base: UnsafePointer<UInt8>
    let count: Int
    let maxDepth: Int
    var pos = 0
    /// Whether `makeString` may build short ASCII strings directly (`SmallASCIIString.isSupported`,
    /// read once by the decoder).
    var smallStrings = false

    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.base = base
        self.count = count
        self.maxDepth = maxDepth
    }

    /// A string found by `scanString`: the bytes between the quotes.
    struct StringToken {
        var start: Int
        var end: Int
        var hasEscapes: Bool
        var length: Int { end - start }
    }

    @inline(__always)
    func peek() -> UInt8 { pos < count ? base[pos] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < count {
            let b = base[pos]
            // ' ' 0x20, '\t' 0x09, '\n' 0x0A, '\r' 0x0D; everything above 0x20 ends the run at once.
            guard b <= 0x20, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ expectation: String) throws(JSONScanFailure) {
        guard pos < count, base[pos] == byte else { throw .syntax(expectation, at: pos, in: self) }
        pos += 1
    }

    // MARK: Strings

    /// Scans a string; `pos` is at the opening quote and ends just past the closing one.
    /// Validates escapes (including surrogate pairs in `\u` escapes), control characters and UTF-8.
    @inline(__always)
    mutating func scanString() throws(JSONScanFailure) -> StringToken {
        let start = pos + 1
        var p = start
        var hasEscapes = false
        while true {
            // Eight bytes at a time: skip words with no '"', '\\', control or non-ASCII byte,
            // else jump straight to the first such byte (the lowest flagged byte is exact).
            if p + 8 <= count {
                let flagged = Self.attentionMask(UInt64(littleEndian: UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)))
                if flagged == 0 {
                    p += 8
                    continue
                }
                p += flagged.trailingZeroBitCount >> 3
            }
            guard p < count else {
                pos = p
                throw .syntax("unterminated string (started at byte \(start - 1)): expected '\"'", at: p, in: self)
            }
            let b = base[p]
            if b == UInt8(ascii: "\"") {
                pos = p + 1
                return StringToken(start: start, end: p, hasEscapes: hasEscapes)
            } else if b == UInt8(ascii: "\\") {
                hasEscapes = true
                pos = p
                try scanEscape()
                p = pos
            } else if b < 0x20 {
                pos = p
                throw .syntax("control characters must be escaped in strings", at: p, in: self)
            } else if b >= 0x80 {
                guard let length = Self.utf8SequenceLength(base, p, count) else {
                    pos = p
                    throw .utf8(at: p)
                }
                p += length
            } else {
                p += 1
            }
        }
    }

    /// The high bit of each byte of `word` that is '"', '\\', below 0x20 or at least 0x80 (little-endian:
    /// the lowest set bit marks the first such byte in memory; higher bits may be false positives).
    @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs
    }

    /// Scans one escape; `pos` is at the backslash.
    mutating func scanEscape() throws(JSONScanFailure) {
        let escapeStart = pos
        pos += 1
        guard pos < count else { throw .syntax("unterminated escape sequence", at: pos, in: self) }
        switch base[pos] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 1
        case UInt8(ascii: "u"):
            pos += 1
            let unit = try scanHex4()
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard pos + 1 < count, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                    throw .syntax("a high surrogate escape \\u\(String(unit, radix: 16)) must be followed by a low surrogate escape \\uDC00-\\uDFFF", at: pos, in: self)
                }
                pos += 2
                let low = try scanHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw .syntax("a high surrogate escape must be followed by a low surrogate escape \\uDC00-\\uDFFF", at: pos - 6, in: self)
                }
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw .syntax("unpaired low surrogate escape: expected a high surrogate \\uD800-\\uDBFF before it", at: escapeStart, in: self)
            }
        default:
            throw .syntax("invalid escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: pos, in: self)
        }
    }

    mutating func scanHex4() throws(JSONScanFailure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < count, let h = Self.hexValue(base[pos]) else {
                throw .syntax("expected 4 hexadecimal digits in a \\u escape", at: pos, in: self)
            }
            value = value << 4 | h
            pos += 1
        }
        return value
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The length of the well-formed UTF-8 sequence starting with a non-ASCII byte at `i`, or nil
    /// (overlong forms, surrogates, code points above U+10FFFF and truncated sequences are rejected).
    static func utf8SequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ count: Int) -> Int? {
        let b0 = p[i]
        @inline(__always) func cont(_ k: Int) -> Bool { i + k < count && p[i + k] & 0xC0 == 0x80 }
        @inline(__always) func inRange(_ k: Int, _ lo: UInt8, _ hi: UInt8) -> Bool { i + k < count && p[i + k] >= lo && p[i + k] <= hi }
        switch b0 {
        case 0xC2...0xDF:
            return cont(1) ? 2 : nil
        case 0xE0:
            return inRange(1, 0xA0, 0xBF) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF:
            return cont(1) && cont(2) ? 3 : nil
        case 0xED:
            return inRange(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0:
            return inRange(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3:
            return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4:
            return inRange(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default:
            return nil
        }
    }

    // MARK: Numbers

    /// Scans a number; `pos` is at '-' or a digit.
    mutating func scanNumber() throws(JSONScanFailure) -> ScannedJSONNumber {
        var n = ScannedJSONNumber(start: pos, end: pos)
        var p = pos
        let count = self.count
        let base = self.base
        @inline(__always) func digit(at i: Int) -> UInt64? {
            guard i < count else { return nil }
            let d = base[i] &- 48
            return d <= 9 ? UInt64(d) : nil
        }
        if base[p] == UInt8(ascii: "-") {
            n.negative = true
            p += 1
        }
        guard let first = digit(at: p) else {
            pos = p
            throw .syntax("expected a digit in number", at: p, in: self)
        }
        p += 1
        var mantissa = first
        var significant = first == 0 ? 0 : 1
        if first == 0 {
            if digit(at: p) != nil {
                pos = p
                throw .syntax("leading zeros are not allowed in numbers", at: p, in: self)
            }
        } else {
            // Up to 19 significant digits fit a UInt64. Eight at a time while they fit.
            while significant <= 11, p + 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self))
                guard Self.isEightDigits(word) else { break }
                mantissa = mantissa &* 100_000_000 &+ Self.eightDigitsValue(word)
                significant += 8
                p += 8
            }
            while significant < 19, let d = digit(at: p) {
                mantissa = mantissa &* 10 &+ d
                significant += 1
                p += 1
            }
            while digit(at: p) != nil {
                n.exponent += 1
                n.truncated = true
                n.droppedIntegerDigits = true
                p += 1
            }
        }
        if p < count, base[p] == UInt8(ascii: ".") {
            n.isIntegerLiteral = false
            p += 1
            guard digit(at: p) != nil else {
                pos = p
                throw .syntax("expected a digit after the decimal point", at: p, in: self)
            }
            while let d = digit(at: p) {
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ d
                    if mantissa != 0 { significant += 1 }
                    n.exponent -= 1
                } else {
                    n.truncated = true
                    if d != 0 { n.droppedNonZeroFraction = true }
                }
                p += 1
            }
        }
        if p < count, base[p] | 0x20 == UInt8(ascii: "e") {
            n.isIntegerLiteral = false
            p += 1
            var negativeExponent = false
            if p < count, base[p] == UInt8(ascii: "-") || base[p] == UInt8(ascii: "+") {
                negativeExponent = base[p] == UInt8(ascii: "-")
                p += 1
            }
            guard digit(at: p) != nil else {
                pos = p
                throw .syntax("expected a digit in the exponent", at: p, in: self)
            }
            var e = 0
            while let d = digit(at: p) {
                // Saturate: anything this large is ±infinity or zero anyway.
                if e < 1_000_000 { e = e * 10 + Int(d) }
                p += 1
            }
            n.exponent += negativeExponent ? -e : e
        }
        n.mantissa = mantissa
        n.end = p
        pos = p
        return n
    }

    /// Whether all eight bytes of `word` are ASCII digits.
    @inline(__always)
    static func isEightDigits(_ word: UInt64) -> Bool {
        (word & 0xF0F0_F0F0_F0F0_F0F0) | (((word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4) == 0x3333_3333_3333_3333
    }

    /// The value of eight ASCII digits loaded little-endian (first digit in the lowest byte), by
    /// combining pairs, then quads, then the two halves with multiplications.
    @inline(__always)
    static func eightDigitsValue(_ word: UInt64) -> UInt64 {
        var v = word &- 0x3030_3030_3030_3030
        v = (v &* 10) &+ (v >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let m1: UInt64 = 100 &+ (1_000_000 << 32)
        let m2: UInt64 = 1 &+ (10_000 << 32)
        return ((v & mask) &* m1 &+ ((v >> 16) & mask) &* m2) >> 32
    }

    // MARK: Literals and skipping

    /// Scans `true`, `false` or `null` at `pos`.
    mutating func scanLiteral() throws(JSONScanFailure) -> LiteralToken {
        let b = peek()
        if b == UInt8(ascii: "t"), matches("true") { pos += 4; return .true }
        if b == UInt8(ascii: "f"), matches("false") { pos += 5; return .false }
        if b == UInt8(ascii: "n"), matches("null") { pos += 4; return .null }
        throw .syntax("expected a JSON value (object, array, string, number, true, false or null)", at: pos, in: self)
    }

    enum LiteralToken { case `true`, `false`, null }

    @inline(__always)
    func matches(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard pos + n <= count else { return false }
        let l = literal.utf8Start
        for i in 0..<n where base[pos + i] != l[i] { return false }
        return true
    }

    /// Skips any value at `pos`, validating it; `depth` is the nesting depth of the container holding it.
    mutating func skipValue(depth: Int) throws(JSONScanFailure) {
        switch peek() {
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        case UInt8(ascii: "{"):
            try skipObject(depth: depth + 1)
        case UInt8(ascii: "["):
            try skipArray(depth: depth + 1)
        default:
            _ = try scanLiteral()
        }
    }

    mutating func checkDepth(_ depth: Int) throws(JSONScanFailure) {
        guard depth <= maxDepth else {
            throw .syntax("nesting deeper than the limit of \(maxDepth) objects/arrays", at: pos, in: self)
        }
    }

    /// Skips an object; `pos` is at '{', `depth` is the object's own depth.
    mutating func skipObject(depth: Int) throws(JSONScanFailure) {
        try checkDepth(depth)
        pos += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw .syntax("expected '\"' to start an object member name", at: pos, in: self) }
            _ = try scanString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "expected ':' after object member name")
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            let b = peek()
            pos += 1
            if b == UInt8(ascii: ",") { skipWhitespace(); continue }
            if b == UInt8(ascii: "}") { return }
            pos -= 1
            throw .syntax("expected ',' or '}' after object member", at: pos, in: self)
        }
    }

    /// Skips an array; `pos` is at '[', `depth` is the array's own depth.
    mutating func skipArray(depth: Int) throws(JSONScanFailure) {
        try checkDepth(depth)
        pos += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return }
        while true {
            try skipValue(depth: depth)
            skipWhitespace()
            let b = peek()
            pos += 1
            if b == UInt8(ascii: ",") { skipWhitespace(); continue }
            if b == UInt8(ascii: "]") { return }
            pos -= 1
            throw .syntax("expected ',' or ']' after array element", at: pos, in: self)
        }
    }

    // MARK: Decoding strings

    /// The decoded contents of a string token (escapes resolved). The token was validated by `scanString`.
    @inline(__always)
    func makeString(_ token: StringToken) -> String {
        if !token.hasEscapes && smallStrings && token.length > 0 && token.length <= 15,
           let small = SmallASCIIString.make(base + token.start, count: token.length, readableEnd: base + count) {
            return small
        }
        return makeGeneralString(token)
    }

    /// `makeString` for escapes, non-ASCII bytes and longer strings.
    @inline(never)
    func makeGeneralString(_ token: StringToken) -> String {
        if !token.hasEscapes {
            let length = token.length
            // Already validated UTF-8; copying into an uninitialised string is the cheapest public way
            // to build one (no heap allocation up to 15 bytes).
            let source = UnsafeRawPointer(base + token.start)
            return String(unsafeUninitializedCapacity: length) { out in
                if let target = out.baseAddress { UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: length) }
                return length
            }
        }
        // Unescaping never lengthens: \uXXXX (6 bytes) → at most 3 bytes, a pair (12) → 4.
        return String(unsafeUninitializedCapacity: token.length) { out in
            var i = token.start
            var o = 0
            while i < token.end {
                let b = base[i]
                guard b == UInt8(ascii: "\\") else { out[o] = b; o += 1; i += 1; continue }
                let e = base[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "b"): out[o] = 0x08; o += 1
                case UInt8(ascii: "f"): out[o] = 0x0C; o += 1
                case UInt8(ascii: "n"): out[o] = 0x0A; o += 1
                case UInt8(ascii: "r"): out[o] = 0x0D; o += 1
                case UInt8(ascii: "t"): out[o] = 0x09; o += 1
                case UInt8(ascii: "u"):
                    var scalar = hex4(at: i)
                    i += 4
                    if scalar >= 0xD800 && scalar <= 0xDBFF {
                        let low = hex4(at: i + 2)
                        i += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    o += Self.writeUTF8(scalar, to: out, at: o)
                default: out[o] = e; o += 1 // '"', '\\', '/'
                }
            }
            return o
        }
    }

    private func hex4(at i: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | (Self.hexValue(base[i + k]) ?? 0) }
        return v
    }

    private static func writeUTF8(_ scalar: UInt32, to buffer: UnsafeMutableBufferPointer<UInt8>, at o: Int) -> Int {
        let out = UnsafeMutableBufferPointer(rebasing: buffer[o...])
        switch scalar {
        case 0..<0x80:
            out[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            out[0] = UInt8(0xC0 | scalar >> 6)
            out[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            out[0] = UInt8(0xE0 | scalar >> 12)
            out[1] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            out[0] = UInt8(0xF0 | scalar >> 18)
            out[1] = UInt8(0x80 | scalar >> 12 & 0x3F)
            out[2] = UInt8(0x80 | scalar >> 6 & 0x3F)
            out[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
