/// Decodes the inside of a JSON string with backslash escapes into UTF-8 bytes.
enum JSONStringDecoder {
    /// Appends the decoded bytes of `escaped` (the text between the quotes) to `output`.
    /// - Throws: ``JSONObjectScanner/Failure`` for an unknown escape or a broken `\u` sequence.
    static func decode(_ escaped: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(JSONObjectScanner.Failure) {
        var index = 0
        let count = escaped.count
        while index < count {
            let byte = escaped[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < count else { throw JSONObjectScanner.Failure(reason: "a string ends with a lone backslash") }
            let code = escaped[index + 1]
            index += 2
            switch code {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(code)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(escaped, &index)
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by `\u` and a low one.
                    guard index + 1 < count, escaped[index] == UInt8(ascii: "\\"), escaped[index + 1] == UInt8(ascii: "u") else {
                        throw JSONObjectScanner.Failure(reason: "a \\u escape holds an unpaired surrogate")
                    }
                    index += 2
                    let low = try hex4(escaped, &index)
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw JSONObjectScanner.Failure(reason: "a \\u escape holds an unpaired surrogate")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw JSONObjectScanner.Failure(reason: "a \\u escape holds an unpaired surrogate")
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw JSONObjectScanner.Failure(reason: "a \\u escape is not a Unicode scalar")
                }
                output.append(contentsOf: String(Character(unicode)).utf8)
            default:
                throw JSONObjectScanner.Failure(reason: "unknown escape '\\\(Character(Unicode.Scalar(code)))' in a string")
            }
        }
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) throws(JSONObjectScanner.Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw JSONObjectScanner.Failure(reason: "a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONObjectScanner.Failure(reason: "a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
