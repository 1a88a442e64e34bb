/// Parses JSON number text into the nearest `Double`, without Foundation and without building a `String`.
///
/// The feature values of a snapshot arrive as JSON text, millions of them; `Double(String)` costs an
/// allocation and a `strtod` call each. This parser reads the digits into a 64-bit significand and a decimal
/// exponent, then converts exactly: Clinger's fast path when both fit a double exactly, else the Eisel–Lemire
/// algorithm (correctly rounded, round half to even). Only numbers with more than 19 significant digits take
/// the slow path through the standard library.
enum DecimalParser {
    /// The value of the JSON number in `bytes`, or nil when the bytes are not a JSON number
    /// (`-? digits (. digits)? ([eE] [+-]? digits)?`; leading zeros are accepted).
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let scanned = scan(bytes, from: 0)
        return scanned.end == bytes.count ? scanned.value : nil
    }

    /// Reads the JSON number that starts at `start` and converts it, in one pass.
    /// - Returns: the value (nil when the text is not a valid number), the offset after the number (after every
    ///   byte that could belong to one, when it is invalid), and whether it has a fraction or an exponent.
    @inline(__always)
    static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (value: Double?, end: Int, hasFraction: Bool) {
        let count = bytes.count
        var index = start
        let negative = index < count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var significand: UInt64 = 0
        var digits = 0  // significant digits taken into `significand`
        var exponent = 0
        var truncated = false
        var valid = true
        var hasFraction = false
        let integerStart = index
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            if significand == 0 && digit == 0 {
                // a leading zero: not significant
            } else if digits < 19 {
                significand = significand &* 10 &+ UInt64(digit)
                digits += 1
            } else {
                if digit != 0 { truncated = true }
                exponent += 1
            }
            index += 1
        }
        if index == integerStart { valid = false }
        if index < count && bytes[index] == UInt8(ascii: ".") {
            hasFraction = true
            index += 1
            let fractionStart = index
            while index < count {
                // Eight digits at once while they still fit the 19 significant digits.
                if significand != 0 && digits <= 11 && index + 8 <= count {
                    let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    if isEightDigits(word) {
                        significand = significand &* 100_000_000 &+ eightDigits(word)
                        digits += 8
                        exponent -= 8
                        index += 8
                        continue
                    }
                }
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                if significand == 0 && digit == 0 {
                    exponent -= 1
                } else if digits < 19 {
                    significand = significand &* 10 &+ UInt64(digit)
                    digits += 1
                    exponent -= 1
                } else if digit != 0 {
                    truncated = true
                }
                index += 1
            }
            if index == fractionStart { valid = false }
        }
        if index < count && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            hasFraction = true
            index += 1
            var negativeExponent = false
            if index < count && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            var written = 0
            while index < count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                if written < 100_000 { written = written * 10 + Int(digit) }
                index += 1
            }
            if index == exponentStart { valid = false }
            exponent += negativeExponent ? -written : written
        }
        guard valid else {
            // Take in whatever else looks like part of a number, so the caller can show the malformed text.
            while index < count {
                let byte = bytes[index]
                guard (byte &- UInt8(ascii: "0")) < 10 || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") else { break }
                index += 1
            }
            return (nil, index, hasFraction)
        }
        if truncated {
            return (Double(String(decoding: bytes[start..<index], as: UTF8.self)), index, hasFraction)
        }
        let magnitude = convert(significand, exponent)
        return (negative ? -magnitude : magnitude, index, hasFraction)
    }

    /// True when the eight bytes of `word` (little-endian) are all ASCII digits.
    @inline(__always)
    static func isEightDigits(_ word: UInt64) -> Bool {
        ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0
    }

    /// The value of eight ASCII digits held in `word` (little-endian: the first digit in the lowest byte).
    @inline(__always)
    static func eightDigits(_ word: UInt64) -> UInt64 {
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let mul1: UInt64 = 0x000F_4240_0000_0064  // 100 + (1000000 << 32)
        let mul2: UInt64 = 0x0000_2710_0000_0001  // 1 + (10000 << 32)
        var value = word &- 0x3030_3030_3030_3030
        value = (value &* 10) &+ (value >> 8)
        value = (((value & mask) &* mul1) &+ (((value >> 16) & mask) &* mul2)) >> 32
        return value & 0xFFFF_FFFF
    }

    /// Powers of ten that a double holds exactly.
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ]

    /// `significand × 10^exponent`, correctly rounded.
    static func convert(_ significand: UInt64, _ exponent: Int) -> Double {
        if significand == 0 { return 0 }
        // Clinger: both operands exact, so one IEEE operation rounds once.
        if significand <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            let value = Double(significand)
            return exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
        }
        return Double(bitPattern: eiselLemire(significand, exponent))
    }

    /// The bits of the double nearest to `w × 10^q` (w > 0), after fast_float's `compute_float`.
    static func eiselLemire(_ w: UInt64, _ q: Int) -> UInt64 {
        let mantissaBits: UInt64 = 52
        let infinitePower: Int = 0x7FF
        if q < PowersOfFive.smallestExponent { return 0 }
        if q > PowersOfFive.largestExponent { return UInt64(infinitePower) << mantissaBits }
        let leadingZeros = w.leadingZeroBitCount
        let normalized = w << leadingZeros
        // The product of the normalised significand and the 128-bit approximation of 5^q; the low word is only
        // needed when the high word's bits below the mantissa (plus 3 guard bits) are all ones.
        let index = 2 * (q - PowersOfFive.smallestExponent)
        var (high, low) = normalized.multipliedFullWidth(by: PowersOfFive.table[index])
        let precisionMask: UInt64 = .max >> 55
        if high & precisionMask == precisionMask {
            let second = normalized.multipliedFullWidth(by: PowersOfFive.table[index + 1])
            low = low &+ second.high
            if second.high > low { high &+= 1 }
        }
        let upperBit = Int(high >> 63)
        let shift = upperBit + 64 - 52 - 3
        var mantissa = high >> UInt64(shift)
        var power2 = (((152_170 + 65_536) * q) >> 16) + 63 + upperBit - leadingZeros + 1023
        if power2 <= 0 {
            // Subnormal (or zero).
            if -power2 + 1 >= 64 { return 0 }
            mantissa >>= UInt64(-power2 + 1)
            mantissa += mantissa & 1
            mantissa >>= 1
            power2 = mantissa < (1 << mantissaBits) ? 0 : 1
            return mantissa | (UInt64(power2) << mantissaBits)
        }
        // Exactly halfway between two doubles: round to even (only possible for small |q|).
        if low <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 && (mantissa << UInt64(shift)) == high {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= (2 << mantissaBits) {
            mantissa = 1 << mantissaBits
            power2 += 1
        }
        mantissa &= ~(1 << mantissaBits)
        if power2 >= infinitePower { return UInt64(infinitePower) << mantissaBits }
        return mantissa | (UInt64(power2) << mantissaBits)
    }
}
