/// Formats Unix-epoch timestamps as RFC 3339 UTC text
/// (`2023-11-14T22:13:20.123Z`) without Foundation, straight into a buffer.
///
/// Civil dates come from the days-since-epoch algorithm of H. Hinnant
/// ("chrono-compatible low-level date algorithms"), valid for the proleptic
/// Gregorian calendar. Years outside 0000…9999 are written with as many
/// digits as needed and a leading `-` when negative (ISO 8601 expanded form).
enum RFC3339Formatter {
    /// Appends the timestamp `value`, counted in units of `1 / unitsPerSecond`
    /// seconds since the epoch, with `fractionDigits` (3 or 6) digits of
    /// fraction, truncated toward the past.
    static func append(
        _ value: Int64, unitsPerSecond: Int64, fractionDigits: Int, into output: inout ByteBuffer
    ) {
        let seconds = floorDivide(value, unitsPerSecond)
        let remainder = value - seconds * unitsPerSecond  // 0 ..< unitsPerSecond
        let fraction: Int64
        switch (unitsPerSecond, fractionDigits) {
        case (1_000, 6): fraction = remainder * 1_000
        case (1_000_000, 3): fraction = remainder / 1_000
        default: fraction = remainder
        }
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)

        output.reserve(40)
        if year < 0 { output.append(UInt8(ascii: "-")) }
        appendPadded(year.magnitude, width: 4, into: &output)
        output.append(UInt8(ascii: "-"))
        appendPadded(UInt64(month), width: 2, into: &output)
        output.append(UInt8(ascii: "-"))
        appendPadded(UInt64(day), width: 2, into: &output)
        output.append(UInt8(ascii: "T"))
        appendPadded(UInt64(secondOfDay / 3_600), width: 2, into: &output)
        output.append(UInt8(ascii: ":"))
        appendPadded(UInt64(secondOfDay / 60 % 60), width: 2, into: &output)
        output.append(UInt8(ascii: ":"))
        appendPadded(UInt64(secondOfDay % 60), width: 2, into: &output)
        output.append(UInt8(ascii: "."))
        appendPadded(UInt64(fraction), width: fractionDigits, into: &output)
        output.append(UInt8(ascii: "Z"))
    }

    @inline(__always)
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    /// (year, month 1…12, day 1…31) of the day `days` after 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Appends `value` in decimal, left-padded with zeros to at least `width` digits.
    @inline(__always)
    static func appendPadded(_ value: UInt64, width: Int, into output: inout ByteBuffer) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for UInt64
        withUnsafeMutableBytes(of: &digits) { scratch in
            var value = value
            var position = scratch.count
            repeat {
                position -= 1
                scratch[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            } while value > 0
            while scratch.count - position < width {
                position -= 1
                scratch[position] = UInt8(ascii: "0")
            }
            output.append(UnsafeRawBufferPointer(rebasing: scratch[position...]))
        }
    }
}
