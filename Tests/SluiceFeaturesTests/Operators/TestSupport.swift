@testable import SluiceFeatures

/// SplitMix64: a tiny seeded generator so every random stream is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Millis {
    static let second: Int64 = 1_000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
}

/// The example configuration's schema and ten features (brief §7).
enum ExampleFeatures {
    static let schema = EventSchema(fields: [
        .init(name: "amount", type: .double),
        .init(name: "merchant", type: .string),
        .init(name: "country", type: .string),
    ])

    static let specs: [FeatureSpec] = [
        FeatureSpec(name: "amount", kind: .value("amount")),
        FeatureSpec(name: "txn_count_1h", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: Millis.hour))),
        FeatureSpec(name: "txn_count_24h", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: Millis.day))),
        FeatureSpec(name: "amount_sum_1h", kind: .aggregate(.sum, of: "amount", window: .sliding(durationMillis: Millis.hour))),
        FeatureSpec(name: "amount_mean_24h", kind: .aggregate(.mean, of: "amount", window: .sliding(durationMillis: Millis.day))),
        FeatureSpec(name: "amount_max_24h", kind: .aggregate(.max, of: "amount", window: .sliding(durationMillis: Millis.day))),
        FeatureSpec(name: "amount_std_7d", kind: .aggregate(.stddev, of: "amount", window: .sliding(durationMillis: 7 * Millis.day))),
        FeatureSpec(name: "merchants_7d", kind: .aggregate(.approxDistinct, of: "merchant", window: .sliding(durationMillis: 7 * Millis.day))),
        FeatureSpec(name: "secs_since_last", kind: .aggregate(.timeSinceLast, of: nil, window: .lifetime)),
        FeatureSpec(name: "last_country", kind: .aggregate(.last, of: "country", window: .lifetime)),
    ]
}

/// A wide schema and a feature set covering every operator over several windows and tile sizes.
enum WideFeatures {
    static let schema = EventSchema(fields: [
        .init(name: "amount", type: .double, optional: true),
        .init(name: "qty", type: .int, optional: true),
        .init(name: "merchant", type: .string, optional: true),
        .init(name: "flag", type: .bool, optional: true),
    ])

    static let windows: [(String, FeatureWindow)] = [
        ("10s", .sliding(durationMillis: 10 * Millis.second)),
        ("10s_t2s", .sliding(durationMillis: 10 * Millis.second, tileMillis: 2 * Millis.second)),
        ("1h", .sliding(durationMillis: Millis.hour)),
        ("1h_t5m", .sliding(durationMillis: Millis.hour, tileMillis: 5 * Millis.minute)),
        ("24h", .sliding(durationMillis: Millis.day)),
        ("7d", .sliding(durationMillis: 7 * Millis.day)),
        ("7d_t1d", .sliding(durationMillis: 7 * Millis.day, tileMillis: Millis.day)),
        ("life", .lifetime),
    ]

    static var specs: [FeatureSpec] {
        var specs: [FeatureSpec] = [
            FeatureSpec(name: "amount", kind: .value("amount")),
            FeatureSpec(name: "merchant", kind: .value("merchant")),
            FeatureSpec(name: "since_last", kind: .aggregate(.timeSinceLast, of: nil, window: .lifetime)),
        ]
        for (label, window) in windows {
            specs.append(FeatureSpec(name: "count_\(label)", kind: .aggregate(.count, of: nil, window: window)))
            for kind in [AggregateKind.sum, .mean, .min, .max, .variance, .stddev, .last] {
                specs.append(FeatureSpec(name: "\(kind.rawValue)_amount_\(label)", kind: .aggregate(kind, of: "amount", window: window)))
            }
            specs.append(FeatureSpec(name: "sum_qty_\(label)", kind: .aggregate(.sum, of: "qty", window: window)))
            specs.append(FeatureSpec(name: "max_qty_\(label)", kind: .aggregate(.max, of: "qty", window: window)))
            specs.append(FeatureSpec(name: "last_merchant_\(label)", kind: .aggregate(.last, of: "merchant", window: window)))
            specs.append(FeatureSpec(name: "distinct_merchant_\(label)", kind: .aggregate(.approxDistinct, of: "merchant", window: window)))
            specs.append(FeatureSpec(name: "distinct_qty_\(label)", kind: .aggregate(.approxDistinct, of: "qty", window: window)))
            specs.append(FeatureSpec(name: "distinct_flag_\(label)", kind: .aggregate(.approxDistinct, of: "flag", window: window)))
        }
        return specs
    }
}

/// One generated input event.
struct StreamEvent {
    var entity: Int
    var event: DecodedEvent
}

/// Seeded random event streams with bursts, gaps of seconds to days, out-of-order and late events, nulls.
struct StreamGenerator {
    var rng: SeededGenerator
    var entities: Int
    var outOfOrderRate: Double
    var maxBackstepMillis: Int64
    var dyadic: Bool
    var distinctMerchants: Int
    var distinctQty: Int = 40

    mutating func make(count: Int, start: Int64 = 1_700_000_000_000) -> [StreamEvent] {
        var clock = start
        var events: [StreamEvent] = []
        events.reserveCapacity(count)
        for _ in 0..<count {
            let roll = Double.random(in: 0..<1, using: &rng)
            let gap: Int64
            switch roll {
            case ..<0.55: gap = Int64.random(in: 0...3_000, using: &rng)
            case ..<0.80: gap = Int64.random(in: 0...(10 * Millis.minute), using: &rng)
            case ..<0.95: gap = Int64.random(in: 0...(6 * Millis.hour), using: &rng)
            default: gap = Int64.random(in: 0...(3 * Millis.day), using: &rng)
            }
            clock += gap
            var t = clock
            if Double.random(in: 0..<1, using: &rng) < outOfOrderRate {
                t = clock - Int64.random(in: 0...maxBackstepMillis, using: &rng)
            }
            // Land some events exactly on tile boundaries.
            let snap = Double.random(in: 0..<1, using: &rng)
            if snap < 0.04 { t -= t % Millis.second } else if snap < 0.08 { t -= t % Millis.minute } else if snap < 0.11 { t -= t % Millis.hour } else if snap < 0.12 { t -= t % Millis.day }
            var e = DecodedEvent()
            let entity = Int.random(in: 0..<entities, using: &rng)
            e.entityID = "e\(entity)"
            e.eventTimeMillis = t
            let amount: FieldValue
            if Double.random(in: 0..<1, using: &rng) < 0.1 {
                amount = .null
            } else if dyadic {
                amount = .double(Double(Int.random(in: -2_000...8_000, using: &rng)) / 4)
            } else {
                amount = .double(Double.random(in: -50...5_000, using: &rng) * Double.random(in: 0.001...1, using: &rng))
            }
            let qty: FieldValue = Double.random(in: 0..<1, using: &rng) < 0.1 ? .null : .int(Int64.random(in: -5...Int64(distinctQty), using: &rng))
            let merchant: FieldValue = Double.random(in: 0..<1, using: &rng) < 0.1 ? .null : .string("m\(Int.random(in: 0..<distinctMerchants, using: &rng))")
            let flag: FieldValue = Double.random(in: 0..<1, using: &rng) < 0.2 ? .null : .bool(Bool.random(using: &rng))
            e.values = [amount, qty, merchant, flag]
            events.append(StreamEvent(entity: entity, event: e))
        }
        return events
    }
}

/// Bit-exact equality of feature values (distinguishes 0.0 from -0.0, unlike `==`).
func bitIdentical(_ a: FieldValue, _ b: FieldValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
    default: return a == b
    }
}
