/// Collects the figures: printed as text as they come, or as one JSON object at the end.
struct Report {
    let json: Bool
    private var fields: [(String, String)] = []

    init(json: Bool) { self.json = json }

    /// A heading (text mode only).
    func section(_ title: String) {
        if !json { print("\n== \(title)") }
    }

    /// A line of text (text mode only).
    func line(_ text: String) {
        if !json { print(text) }
    }

    mutating func value(_ key: String, _ v: Int) { fields.append((key, String(v))) }

    mutating func value(_ key: String, _ v: Double) {
        fields.append((key, v.isFinite ? String((v * 1000).rounded() / 1000) : "null"))
    }

    mutating func value(_ key: String, _ v: String) {
        fields.append((key, "\"" + v.replacingOccurrences("\"", with: "\\\"") + "\""))
    }

    /// Events per CPU second (and per wall second) of `events` events that took `timing`.
    mutating func rate(_ key: String, label: String, events: Int, timing: Timing) {
        let perCPU = Double(events) / timing.cpu
        let perWall = Double(events) / timing.wall
        let ns = timing.cpu / Double(events) * 1e9
        line("\(label): \(Int(perCPU.rounded())) events/s per CPU second, \(format(ns)) ns/event, \(format(timing.cpu)) CPU s (wall: \(Int(perWall.rounded())) events/s)")
        value("\(key)_events_per_cpu_second", Int(perCPU.rounded()))
        value("\(key)_events_per_wall_second", Int(perWall.rounded()))
        value("\(key)_ns_per_event", ns)
        value("\(key)_cpu_seconds", timing.cpu)
    }

    /// Prints the JSON object (JSON mode).
    func finish() {
        guard json else { return }
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }
}

extension String {
    func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
