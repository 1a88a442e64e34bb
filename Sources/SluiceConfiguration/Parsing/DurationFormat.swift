/// Parses and prints durations written as `250ms`, `30s`, `5m`, `1h`, `7d` or combinations such as `1h30m`.
///
/// The resolution is one millisecond. A bare number is refused because `300` could mean seconds or
/// milliseconds; the message suggests adding a unit.
package enum DurationFormat {
    /// The accepted units and their length in milliseconds, longest spelling first so `ms` wins over `m`.
    static let units: [(name: String, milliseconds: Int64)] = [
        ("ms", 1), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
    ]

    /// What a valid duration looks like, for messages.
    package static let expected = "a duration such as 250ms, 30s, 5m, 1h30m or 7d (units: ms, s, m, h, d)"

    /// Parses `text` into a duration.
    /// - Throws: `ValueIssue` naming the text and the expected format.
    package static func parse(_ text: String) -> Result<Duration, ValueIssue> {
        parseMilliseconds(text).map { Duration.milliseconds($0) }
    }

    /// Parses `text` into whole milliseconds.
    package static func parseMilliseconds(_ text: String) -> Result<Int64, ValueIssue> {
        let bytes = Array(text.utf8)
        if bytes.isEmpty {
            return .failure(ValueIssue("empty value is not a duration; expected \(expected)"))
        }
        if bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return .failure(
                ValueIssue("'\(text)' has no unit; write e.g. '\(text)s' or '\(text)ms' (units: ms, s, m, h, d)"))
        }
        var total: Int64 = 0
        var index = 0
        var seenUnits: UInt8 = 0  // one bit per entry of `units`
        while index < bytes.count {
            var number: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(bytes[index] - 0x30))
                if overflow1 || overflow2 {
                    return .failure(ValueIssue("'\(text)' is too large for a duration"))
                }
                number = plus
                index += 1
            }
            if index == digitsStart {
                return .failure(ValueIssue("'\(text)' is not a valid duration; expected \(expected)"))
            }
            let unitStart = index
            while index < bytes.count, (bytes[index] < 0x30 || bytes[index] > 0x39) {
                index += 1
            }
            let unitBytes = bytes[unitStart..<index]
            guard let unitIndex = units.firstIndex(where: { $0.name.utf8.elementsEqual(unitBytes) }) else {
                let unit = String(decoding: unitBytes, as: UTF8.self)
                let what = unit.isEmpty ? "a number without a unit" : "unknown unit '\(unit)'"
                return .failure(ValueIssue("'\(text)' is not a valid duration (\(what)); expected \(expected)"))
            }
            let match = units[unitIndex]
            if seenUnits & (1 << unitIndex) != 0 {
                return .failure(ValueIssue("'\(text)' is not a valid duration (unit '\(match.name)' appears twice); expected \(expected)"))
            }
            seenUnits |= 1 << unitIndex
            let (part, overflow1) = number.multipliedReportingOverflow(by: match.milliseconds)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            if overflow1 || overflow2 {
                return .failure(ValueIssue("'\(text)' is too large for a duration"))
            }
            total = sum
        }
        return .success(total)
    }

    /// Whole milliseconds of `duration` (sub-millisecond parts are dropped).
    package static func milliseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Prints `duration` in the shortest form this parser reads back, e.g. `1h30m`, `200ms`, `0s`.
    package static func format(_ duration: Duration) -> String {
        formatMilliseconds(milliseconds(of: duration))
    }

    /// Prints whole milliseconds as a duration, e.g. 5_400_000 → `1h30m`.
    package static func formatMilliseconds(_ value: Int64) -> String {
        if value == 0 { return "0s" }
        var rest = value
        var text = value < 0 ? "-" : ""
        if rest < 0 { rest = -rest }
        for (name, length) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            let count = rest / length
            if count > 0 {
                text += "\(count)\(name)"
                rest -= count * length
            }
        }
        return text
    }
}
