/// Snapshot ids: `snap-YYYYMMDDTHHMMSSZ-<8 hex>`, e.g. `snap-20260102T030405Z-9f86d081`.
///
/// The UTC creation time first, so ids sort by when they were taken (to the second) and name directories that
/// list in order; 32 random bits after it keep two snapshots of the same second apart.
package enum SnapshotID {
    /// A new id for a snapshot created at `createdAtMillis`.
    package static func make(createdAtMillis: Int64, random: UInt32 = .random(in: .min ... .max)) -> String {
        var text = "snap-"
        let (seconds, _) = floorDivide(createdAtMillis, 1_000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        text += pad(year, 4) + pad(month, 2) + pad(day, 2) + "T"
        text += pad(secondOfDay / 3_600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2) + "Z-"
        let hex = String(random, radix: 16)
        text += String(repeating: "0", count: 8 - hex.count) + hex
        return text
    }

    /// True when `id` has the form `snap-YYYYMMDDTHHMMSSZ-<8 lower-case hex>`.
    package static func isValid(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == 30, id.hasPrefix("snap-"), bytes[13] == UInt8(ascii: "T"), bytes[20] == UInt8(ascii: "Z"),
              bytes[21] == UInt8(ascii: "-")
        else { return false }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let isHex = { (byte: UInt8) in isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f")) }
        return bytes[5..<13].allSatisfy(isDigit) && bytes[14..<20].allSatisfy(isDigit) && bytes[22...].allSatisfy(isHex)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
        return remainder < 0 ? (quotient - 1, remainder + b) : (quotient, remainder)
    }

    /// (year, month, day) of the day `days` after 1970-01-01 (H. Hinnant's civil-from-days).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
