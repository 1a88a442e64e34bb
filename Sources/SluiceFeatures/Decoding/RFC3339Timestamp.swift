/// RFC 3339 timestamps to and from epoch milliseconds, without Foundation.
///
/// Accepted syntax: `full-date ("T" / "t" / " ") partial-time ("Z" / "z" / ("+" / "-") hh ":" mm)`,
/// where `partial-time` is `hh:mm:ss` with an optional fraction of one or more digits.
/// Choices where RFC 3339 leaves room:
/// - Fractions of any length are accepted and truncated (not rounded) to the millisecond, so
///   `.9999` is 999 ms; the truncation is of the written digits, i.e. towards the earlier instant.
/// - Leap seconds (`:60`) are rejected: epoch time cannot represent them and silently clamping
///   would reorder events.
/// - The space separator and lowercase `t`/`z` (allowed by RFC 3339 §5.6's note) are accepted;
///   `-00:00` means UTC.
/// - Years are `0000`…`9999` with the proleptic Gregorian calendar; day-of-month is checked
///   against the month and leap years.
package enum RFC3339Timestamp {
    /// Why a string is not an RFC 3339 timestamp.
    package enum Failure: UInt8, Sendable, Hashable {
        case syntax, month, day, hour, minute, second, leapSecond, offset

        /// A short explanation, used in error messages.
        package var explanation: String {
            switch self {
            case .syntax: return "expected the form YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)"
            case .month: return "month out of range 01-12"
            case .day: return "day out of range for the month"
            case .hour: return "hour out of range 00-23"
            case .minute: return "minute out of range 00-59"
            case .second: return "second out of range 00-59"
            case .leapSecond: return "leap second 60 is not supported"
            case .offset: return "UTC offset out of range (hours 00-23, minutes 00-59)"
            }
        }
    }

    /// The outcome of parsing.
    package enum Outcome: Sendable, Hashable {
        case millis(Int64)
        case failure(Failure)
    }

    /// Parses an RFC 3339 timestamp held in `bytes` (UTF-8, no quotes) to milliseconds since the Unix epoch.
    package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let n = bytes.count
        // Shortest form: "YYYY-MM-DDThh:mm:ssZ" (20 bytes).
        guard n >= 20, let p = bytes.baseAddress else { return .failure(.syntax) }

        @inline(__always) func digit(_ i: Int) -> Int? {
            let d = Int(p[i]) &- 48
            return (d >= 0 && d <= 9) ? d : nil
        }
        @inline(__always) func two(_ i: Int) -> Int? {
            guard let a = digit(i), let b = digit(i + 1) else { return nil }
            return a * 10 + b
        }

        guard let y1 = two(0), let y2 = two(2), p[4] == UInt8(ascii: "-"),
              let month = two(5), p[7] == UInt8(ascii: "-"),
              let day = two(8)
        else { return .failure(.syntax) }
        let sep = p[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " "),
              let hour = two(11), p[13] == UInt8(ascii: ":"),
              let minute = two(14), p[16] == UInt8(ascii: ":"),
              let second = two(17)
        else { return .failure(.syntax) }

        var i = 19
        var millis = 0
        if p[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            var scale = 100
            while i < n, let d = digit(i) {
                millis += d * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return .failure(.syntax) }
        }
        guard i < n else { return .failure(.syntax) }
        var offsetMinutes = 0
        let z = p[i]
        if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
            i += 1
        } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
            guard n - i == 6, let oh = two(i + 1), p[i + 3] == UInt8(ascii: ":"), let om = two(i + 4) else {
                return .failure(.syntax)
            }
            guard oh <= 23, om <= 59 else { return .failure(.offset) }
            offsetMinutes = oh * 60 + om
            if z == UInt8(ascii: "-") { offsetMinutes = -offsetMinutes }
            i += 6
        } else {
            return .failure(.syntax)
        }
        guard i == n else { return .failure(.syntax) }

        let year = y1 * 100 + y2
        guard month >= 1, month <= 12 else { return .failure(.month) }
        guard day >= 1, day <= daysInMonth(year: year, month: month) else { return .failure(.day) }
        guard hour <= 23 else { return .failure(.hour) }
        guard minute <= 59 else { return .failure(.minute) }
        if second == 60 { return .failure(.leapSecond) }
        guard second <= 59 else { return .failure(.second) }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return .millis(seconds * 1000 + Int64(millis))
    }

    /// Parses an RFC 3339 timestamp to milliseconds since the Unix epoch; nil when invalid.
    package static func parseMillis(_ string: String) -> Int64? {
        var s = string
        return s.withUTF8 { buf in
            if case .millis(let m) = parse(buf) { return m }
            return nil
        }
    }

    /// Formats milliseconds since the Unix epoch as `YYYY-MM-DDThh:mm:ss.mmmZ` (always UTC, always
    /// three fraction digits). Years outside 0000…9999 cannot be written in RFC 3339; they are
    /// written with as many digits as needed and a leading `-` when negative.
    /// Appends the `format(millis:)` text (without quotes) to a byte buffer, without an intermediate string
    /// for years 0…9999.
    package static func append(millis: Int64, to out: inout [UInt8]) {
        let (daysQ, msOfDay) = floorDivide(millis, 86_400_000)
        let (year, month, day) = civilFromDays(daysQ)
        guard (0...9999).contains(year) else {
            out += format(millis: millis).utf8
            return
        }
        let ms = Int(msOfDay)
        @inline(__always) func put(_ value: Int, _ width: Int, then separator: UInt8) {
            var digits: (UInt8, UInt8, UInt8, UInt8) = (48, 48, 48, 48)
            var v = value
            withUnsafeMutableBytes(of: &digits) { d in
                var k = width - 1
                while k >= 0 { d[k] = UInt8(48 + v % 10); v /= 10; k -= 1 }
                out.append(contentsOf: d.prefix(width))
            }
            out.append(separator)
        }
        put(year, 4, then: UInt8(ascii: "-"))
        put(month, 2, then: UInt8(ascii: "-"))
        put(day, 2, then: UInt8(ascii: "T"))
        put(ms / 3_600_000, 2, then: UInt8(ascii: ":"))
        put(ms / 60_000 % 60, 2, then: UInt8(ascii: ":"))
        put(ms / 1000 % 60, 2, then: UInt8(ascii: "."))
        put(ms % 1000, 3, then: UInt8(ascii: "Z"))
    }

    package static func format(millis: Int64) -> String {
        let (daysQ, msOfDay) = floorDivide(millis, 86_400_000)
        let (year, month, day) = civilFromDays(daysQ)
        let ms = Int(msOfDay)
        let hour = ms / 3_600_000
        let minute = ms / 60_000 % 60
        let second = ms / 1000 % 60
        let milli = ms % 1000
        guard (0...9999).contains(year) else {
            let y = year < 0 ? "-" + pad(-year, 4) : pad(year, 4)
            return "\(y)-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(milli, 3))Z"
        }
        return String(unsafeUninitializedCapacity: 24) { out in
            @inline(__always) func put(_ value: Int, _ width: Int, at index: Int) {
                var v = value
                var k = index + width - 1
                while k >= index {
                    out[k] = UInt8(48 + v % 10)
                    v /= 10
                    k -= 1
                }
            }
            put(year, 4, at: 0); out[4] = UInt8(ascii: "-")
            put(month, 2, at: 5); out[7] = UInt8(ascii: "-")
            put(day, 2, at: 8); out[10] = UInt8(ascii: "T")
            put(hour, 2, at: 11); out[13] = UInt8(ascii: ":")
            put(minute, 2, at: 14); out[16] = UInt8(ascii: ":")
            put(second, 2, at: 17); out[19] = UInt8(ascii: ".")
            put(milli, 3, at: 20); out[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Whether `year` is a Gregorian leap year.
    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era/day-of-era method).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (inverse of `daysFromCivil`).
    static func civilFromDays(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// Formats epoch milliseconds as an RFC 3339 UTC timestamp, e.g. `2026-01-02T03:04:05.678Z`.
/// See `RFC3339Timestamp.format(millis:)`.
package func formatRFC3339(millis: Int64) -> String {
    RFC3339Timestamp.format(millis: millis)
}
