/// Parses and prints byte sizes: `512`, `512B`, `64KiB`, `1MiB`, `1GiB` (powers of 1024) and `64KB`, `1MB`, `1GB`
/// (powers of 1000).
package enum ByteSizeFormat {
    static let units: [(name: String, bytes: Int)] = [
        ("B", 1), ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
        ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000),
    ]

    /// What a valid size looks like, for messages.
    package static let expected = "a size such as 512, 64KiB, 1MiB, 1GiB, 64KB or 1MB"

    /// Parses `text` into a number of bytes.
    package static func parse(_ text: String) -> Result<Int, ValueIssue> {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        let unit = text.dropFirst(digits.count).trimmingPrefix(" ")
        guard !digits.isEmpty, let number = Int(digits) else {
            return .failure(ValueIssue("'\(text)' is not a valid size; expected \(expected)"))
        }
        let multiplier: Int
        if unit.isEmpty {
            multiplier = 1
        } else if let match = units.first(where: { $0.name == unit }) {
            multiplier = match.bytes
        } else {
            return .failure(
                ValueIssue("'\(text)' has unknown unit '\(unit)'; expected \(expected) (units: B, KiB, MiB, GiB, KB, MB, GB)"))
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        if overflow {
            return .failure(ValueIssue("'\(text)' is too large for a size"))
        }
        return .success(bytes)
    }

    /// Prints `bytes` with the largest unit that divides it exactly (binary first), e.g. 1048576 → `1MiB`, 1000000 → `1MB`.
    package static func format(_ bytes: Int) -> String {
        if bytes == 0 { return "0" }
        let candidates = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000)]
        for (name, size) in candidates where bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return String(bytes)
    }
}
