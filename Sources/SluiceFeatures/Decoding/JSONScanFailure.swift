/// A failure found while scanning a payload; turned into an `EventDecodeError` by the decoder.
struct JSONScanFailure: Error {
    var error: EventDecodeError

    /// A syntax error at `offset`, with `expectation` saying what was expected there.
    static func syntax(_ expectation: String, at offset: Int, in scanner: JSONEventScanner) -> JSONScanFailure {
        let found: String
        if offset >= scanner.count {
            found = "found end of input"
        } else {
            let b = scanner.base[offset]
            if b >= 0x21 && b < 0x7F {
                found = "found '\(Character(Unicode.Scalar(b)))'"
            } else {
                found = "found byte 0x\(String(b, radix: 16, uppercase: true))"
            }
        }
        return JSONScanFailure(error: EventDecodeError(
            reason: .invalidJSON,
            message: "invalid JSON at byte \(offset): \(expectation), \(found)",
            byteOffset: offset
        ))
    }

    /// A malformed UTF-8 sequence starting at `offset`.
    static func utf8(at offset: Int) -> JSONScanFailure {
        JSONScanFailure(error: EventDecodeError(
            reason: .invalidUTF8,
            message: "invalid UTF-8 at byte \(offset): malformed or overlong sequence, surrogate or code point above U+10FFFF",
            byteOffset: offset
        ))
    }
}
