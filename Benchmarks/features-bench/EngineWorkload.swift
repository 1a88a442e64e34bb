import Foundation // pow, for workload generation only; nothing on the measured path
import SluiceFeatures

/// SplitMix64: deterministic, seedable.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// Zipf(s) over ranks 0..<n by inverse CDF (binary search over a precomputed table): deterministic.
struct BenchZipf {
    let cdf: [Double]
    init(n: Int, s: Double) {
        var acc = 0.0
        var table = [Double](repeating: 0, count: n)
        for k in 1...n {
            acc += 1 / pow(Double(k), s)
            table[k - 1] = acc
        }
        cdf = table.map { $0 / acc }
    }
    /// A rank in 0..<n (0 is the most frequent).
    func sample(_ rng: inout SplitMix64) -> Int {
        let u = rng.unit()
        var lo = 0
        var hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// The engine-only workload: events pre-generated as plain arrays (no JSON), 100 000 entities drawn
/// Zipf(1.1), event times increasing with jitter (3 % out of order within the lateness, 0.1 % late),
/// users mostly shopping at a few habitual merchants. `fill` builds the `DecodedEvent` a decoder would
/// hand over.
struct EngineWorkload {
    static let entityCount = 100_000
    static let merchantCount = 20_000
    static let countryNames = ["DE", "FR", "US", "GB", "JP", "BR", "IN", "ES", "IT", "NL", "SE", "PL", "CA", "AU", "MX", "CH", "AT", "BE", "DK", "NO"]

    let entityNames: [String]
    let merchantNames: [String]
    var entities: [Int32]
    var times: [Int64]
    var amounts: [Double]
    var merchants: [Int32]
    var countries: [UInt8]
    var outOfOrderPlanned = 0

    init(events eventCount: Int, spanDays: Double, allowedLateness: Int64) {
        let day: Int64 = 86_400_000
        var rng = SplitMix64(state: 42)
        let entityZipf = BenchZipf(n: Self.entityCount, s: 1.1)
        let merchantZipf = BenchZipf(n: Self.merchantCount, s: 1.1)
        entityNames = (0..<Self.entityCount).map { "user-\($0)" }
        merchantNames = (0..<Self.merchantCount).map { "merchant-\($0)" }
        let span = Int64(spanDays * Double(day))
        let start: Int64 = 1_760_000_000_000
        entities = [Int32](repeating: 0, count: eventCount)
        times = [Int64](repeating: 0, count: eventCount)
        amounts = [Double](repeating: 0, count: eventCount)
        merchants = [Int32](repeating: 0, count: eventCount)
        countries = [UInt8](repeating: 0, count: eventCount)
        let countryCount = Self.countryNames.count
        for i in 0..<eventCount {
            let e = entityZipf.sample(&rng)
            entities[i] = Int32(e)
            var t = start + Int64(Double(span) * Double(i) / Double(eventCount))
            let jitter = rng.unit()
            if jitter < 0.03 {
                t -= Int64(rng.unit() * Double(4 * 60_000))       // out of order, within lateness
                outOfOrderPlanned += 1
            } else if jitter < 0.031 {
                t -= allowedLateness + Int64(rng.unit() * 600_000) // beyond lateness: dropped as late
            }
            times[i] = t
            amounts[i] = (rng.unit() * 200 + 1) * (rng.unit() < 0.05 ? 20 : 1)
            // Users mostly shop at a few habitual merchants, sometimes anywhere.
            merchants[i] = rng.unit() < 0.8
                ? Int32(truncatingIfNeeded: (UInt64(e) &* 2_654_435_761 &+ UInt64(rng.next() % 6) &* 40_503) % UInt64(Self.merchantCount))
                : Int32(merchantZipf.sample(&rng))
            countries[i] = rng.unit() < 0.95 ? UInt8(e % countryCount) : UInt8(rng.next() % UInt64(countryCount))
        }
    }

    /// Overwrites `event` with event `i`, as a decoder would (small strings: no allocation).
    @inline(__always)
    func fill(_ event: inout DecodedEvent, _ i: Int) {
        event.entityID = entityNames[Int(entities[i])]
        event.eventTimeMillis = times[i]
        event.values[0] = .double(amounts[i])
        event.values[1] = .string(merchantNames[Int(merchants[i])])
        event.values[2] = .string(Self.countryNames[Int(countries[i])])
    }
}

/// The decode + features workload: demo JSON events (`DemoEventGenerator`, ~154 bytes each, by default
/// 100 000 users drawn Zipf(1.1), 5 000 merchants, 30 countries) back to back in one buffer.
struct PipelineWorkload {
    let payloads: [UInt8]
    /// Event i is `payloads[offsets[i] ..< offsets[i + 1]]`.
    let offsets: [Int]
    /// The generator's clock after the last event (no event is in the future of it).
    let nowMillis: Int64
    let spanDays: Double

    init(events: Int, stepMillis: Int64, entities: Int) {
        var options = DemoEventGenerator.Options()
        options.stepMillis = stepMillis
        options.entityCount = entities
        var generator = DemoEventGenerator(options: options)
        var payloads: [UInt8] = []
        payloads.reserveCapacity(events * 160)
        var offsets: [Int] = [0]
        offsets.reserveCapacity(events + 1)
        for _ in 0..<events {
            generator.next(into: &payloads)
            offsets.append(payloads.count)
        }
        self.payloads = payloads
        self.offsets = offsets
        self.nowMillis = generator.nominalMillis
        self.spanDays = Double(Int64(events) * stepMillis) / 86_400_000
    }

    var meanBytes: Double { Double(payloads.count) / Double(offsets.count - 1) }
}
