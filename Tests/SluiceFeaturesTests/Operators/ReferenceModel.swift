@testable import SluiceFeatures

/// Brute-force reference: keeps every event of every entity and recomputes each feature from scratch,
/// following docs/features.md literally (it shares no aggregation code with the engine; only the
/// HyperLogLog sketch is reused, since approx_distinct is defined as that sketch over the window's values).
struct ReferenceModel {
    struct Stored {
        var time: Int64
        var seq: Int
        var values: [FieldValue]
    }

    let specs: [FeatureSpec]
    let schema: EventSchema
    var events: [String: [Stored]] = [:]
    var seq = 0

    init(specs: [FeatureSpec], schema: EventSchema) {
        self.specs = specs
        self.schema = schema
    }

    /// Tile index by the documented rule: tile k covers ((k−1)·r, k·r], i.e. k = ⌈t / r⌉.
    static func tile(_ t: Int64, _ r: Int64) -> Int64 {
        Int64((Double(t) / Double(r)).rounded(.up))
    }

    mutating func apply(_ e: DecodedEvent) -> [FieldValue] {
        let previous = events[e.entityID] ?? []
        let latest = previous.map(\.time).max()
        events[e.entityID, default: []].append(Stored(time: e.eventTimeMillis, seq: seq, values: e.values))
        seq += 1
        let all = events[e.entityID]!
        return specs.map { spec in
            switch spec.kind {
            case .value(let field):
                return e.values[schema.index(of: field)!]
            case .aggregate(.timeSinceLast, _, _):
                guard let latest, e.eventTimeMillis >= latest else { return .null }
                return .double(Double(e.eventTimeMillis - latest) / 1_000)
            case .aggregate(let kind, let of, let window):
                return Self.evaluate(kind, field: of.flatMap { schema.index(of: $0) }, window: window, events: all, at: e.eventTimeMillis)
            }
        }
    }

    func read(entity: String, asOf: Int64) -> [FieldValue] {
        let all = events[entity] ?? []
        let latest = all.max { ($0.time, $0.seq) < ($1.time, $1.seq) }
        return specs.map { spec in
            switch spec.kind {
            case .value(let field):
                return latest?.values[schema.index(of: field)!] ?? .null
            case .aggregate(.timeSinceLast, _, _):
                guard let latest, asOf >= latest.time else { return .null }
                return .double(Double(asOf - latest.time) / 1_000)
            case .aggregate(let kind, let of, let window):
                return Self.evaluate(kind, field: of.flatMap { schema.index(of: $0) }, window: window, events: all, at: asOf)
            }
        }
    }

    static func evaluate(_ kind: AggregateKind, field: Int?, window: FeatureWindow, events: [Stored], at t: Int64) -> FieldValue {
        let inWindow: [Stored]
        switch window {
        case .lifetime:
            inWindow = events
        case .sliding(let duration, let r):
            let end = tile(t, r)
            let n = duration / r
            inWindow = events.filter { tile($0.time, r) > end - n && tile($0.time, r) <= end }
        }
        let values: [FieldValue] = field.map { f in inWindow.map { $0.values[f] }.filter { $0 != .null } } ?? []
        let numbers = values.compactMap(\.numeric)
        switch kind {
        case .count:
            return .int(Int64(inWindow.count))
        case .sum:
            return .double(exactishSum(numbers))
        case .mean:
            return numbers.isEmpty ? .null : .double(exactishSum(numbers) / Double(numbers.count))
        case .min:
            return numbers.min().map { .double($0) } ?? .null
        case .max:
            return numbers.max().map { .double($0) } ?? .null
        case .variance, .stddev:
            guard numbers.count >= 2 else { return .null }
            let mean = exactishSum(numbers) / Double(numbers.count)
            let m2 = exactishSum(numbers.map { ($0 - mean) * ($0 - mean) })
            let variance = m2 / Double(numbers.count - 1)
            return .double(kind == .variance ? variance : variance.squareRoot())
        case .last:
            guard let f = field else { return .null }
            let candidates = inWindow.filter { $0.values[f] != .null }
            let winner = candidates.max { ($0.time, $0.seq) < ($1.time, $1.seq) }
            return winner?.values[f] ?? .null
        case .approxDistinct:
            var sketch = HyperLogLog()
            for v in values { sketch.insert(hash: v.stableHash!) }
            return .int(HyperLogLog.rounded(sketch.estimate()))
        case .timeSinceLast:
            return .null
        }
    }

    /// Sum in order of increasing magnitude with Neumaier compensation: close to the exact sum.
    static func exactishSum(_ xs: [Double]) -> Double {
        var s = 0.0
        var c = 0.0
        for v in xs.sorted(by: { abs($0) < abs($1) }) {
            let t = s + v
            if abs(s) >= abs(v) { c += (s - t) + v } else { c += (v - t) + s }
            s = t
        }
        return s + c
    }
}
