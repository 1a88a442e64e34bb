extension Substring {
    /// The text without leading and trailing spaces (for comma-separated lists).
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
