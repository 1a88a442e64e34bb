// features-bench: throughput of FeatureEngine.apply for the example configuration's ten features,
// 100,000 entities drawn Zipf(s = 1.1), event times increasing with jitter (some out of order, a few late),
// states in a [String: EntityState] dictionary; then serialized state size and (de)serialization cost.
//
// Run: swift build -c release && .build/release/features-bench [events]
import Foundation // workload generation (pow) and exit only; nothing on the measured path
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

/// Zipf(s) over ranks 1...n by inverse CDF (binary search over a precomputed table): deterministic.
struct ZipfSampler {
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

/// CPU time consumed by this process so far, in seconds.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func runBenchmark() {
    let eventCount = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5_000_000 : 5_000_000
    let entityCount = 100_000
    let merchantCount = 20_000
    let allowedLateness: Int64 = 5 * 60_000
    let day: Int64 = 86_400_000

    let schema = EventSchema(fields: [
        .init(name: "amount", type: .double),
        .init(name: "merchant", type: .string),
        .init(name: "country", type: .string),
    ])
    let hour: Int64 = 3_600_000
    let specs: [FeatureSpec] = [
        FeatureSpec(name: "amount", kind: .value("amount")),
        FeatureSpec(name: "txn_count_1h", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: hour))),
        FeatureSpec(name: "txn_count_24h", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: day))),
        FeatureSpec(name: "amount_sum_1h", kind: .aggregate(.sum, of: "amount", window: .sliding(durationMillis: hour))),
        FeatureSpec(name: "amount_mean_24h", kind: .aggregate(.mean, of: "amount", window: .sliding(durationMillis: day))),
        FeatureSpec(name: "amount_max_24h", kind: .aggregate(.max, of: "amount", window: .sliding(durationMillis: day))),
        FeatureSpec(name: "amount_std_7d", kind: .aggregate(.stddev, of: "amount", window: .sliding(durationMillis: 7 * day))),
        FeatureSpec(name: "merchants_7d", kind: .aggregate(.approxDistinct, of: "merchant", window: .sliding(durationMillis: 7 * day))),
        FeatureSpec(name: "secs_since_last", kind: .aggregate(.timeSinceLast, of: nil, window: .lifetime)),
        FeatureSpec(name: "last_country", kind: .aggregate(.last, of: "country", window: .lifetime)),
    ]
    let engine: FeatureEngine
    do {
        engine = try FeatureEngine(specs: specs, schema: schema)
    } catch {
        print("invalid specs: \(error)")
        return
    }

    // ---- Workload (pre-generated so generation is not measured) ----
    print("generating \(eventCount) events over \(entityCount) entities (Zipf s=1.1) ...")
    var rng = SplitMix64(state: 42)
    let entityZipf = ZipfSampler(n: entityCount, s: 1.1)
    let merchantZipf = ZipfSampler(n: merchantCount, s: 1.1)
    let entityNames = (0..<entityCount).map { "user-\($0)" }
    let merchantNames = (0..<merchantCount).map { "merchant-\($0)" }
    let countryNames = ["DE", "FR", "US", "GB", "JP", "BR", "IN", "ES", "IT", "NL", "SE", "PL", "CA", "AU", "MX", "CH", "AT", "BE", "DK", "NO"]
    // Default: 5M events over 14 days; a smaller run keeps the same per-entity density (shorter span).
    let spanDays = CommandLine.arguments.count > 2 ? Double(CommandLine.arguments[2]) ?? 14 : 14 * Double(eventCount) / 5_000_000
    let span = Int64(spanDays * Double(day))
    let start: Int64 = 1_760_000_000_000
    var entities = [Int32](repeating: 0, count: eventCount)
    var times = [Int64](repeating: 0, count: eventCount)
    var amounts = [Double](repeating: 0, count: eventCount)
    var merchants = [Int32](repeating: 0, count: eventCount)
    var countries = [UInt8](repeating: 0, count: eventCount)
    var outOfOrderPlanned = 0
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
            ? Int32(truncatingIfNeeded: (UInt64(e) &* 2_654_435_761 &+ UInt64(rng.next() % 6) &* 40_503) % UInt64(merchantCount))
            : Int32(merchantZipf.sample(&rng))
        countries[i] = rng.unit() < 0.95 ? UInt8(e % countryNames.count) : UInt8(rng.next() % UInt64(countryNames.count))
    }

    @inline(__always)
        func fill(_ event: inout DecodedEvent, _ i: Int) {
        event.entityID = entityNames[Int(entities[i])]
        event.eventTimeMillis = times[i]
        event.values[0] = .double(amounts[i])
        event.values[1] = .string(merchantNames[Int(merchants[i])])
        event.values[2] = .string(countryNames[Int(countries[i])])
    }

    // ---- Event-fill cost alone (what the decoder hands over; subtracted for the features-only figure) ----
    var event = DecodedEvent()
    event.values = [.null, .null, .null]
    var sink = 0
    let clock = ContinuousClock()
    let fillTime = clock.measure {
        for i in 0..<eventCount {
            fill(&event, i)
            sink &+= event.entityID.utf8.count
        }
    }

    // ---- apply ----
    var states: [String: EntityState] = [:]
    states.reserveCapacity(entityCount)
    var tracker = LatenessTracker()
    var output = [FieldValue](repeating: .null, count: specs.count)
    var late = 0
    var applied = 0
    var evictTime = Duration.zero
    let evictEvery = 500_000
    let cpuBefore = cpuSeconds()
    let applyTime = clock.measure {
        for i in 0..<eventCount {
            fill(&event, i)
            if tracker.isLate(event.eventTimeMillis, allowedLatenessMillis: allowedLateness) {
                late += 1
                continue
            }
            tracker.observe(event.eventTimeMillis)
            engine.apply(event, to: &states[event.entityID, default: engine.makeState()], output: &output)
            applied += 1
            if case .int(let c) = output[1] { sink &+= Int(c) }
            if i % evictEvery == evictEvery - 1 {
                let watermark = tracker.watermark(allowedLatenessMillis: allowedLateness)
                evictTime += clock.measure {
                    // Mutate through `values` by index: iterating `keys` while mutating would copy every state.
                    var index = states.values.startIndex
                    while index != states.values.endIndex {
                        states.values[index].evict(olderThan: watermark)
                        index = states.values.index(after: index)
                    }
                }
            }
        }
    }

        func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    let cpuApply = cpuSeconds() - cpuBefore - seconds(evictTime)
    let total = seconds(applyTime) - seconds(evictTime)
    let featuresOnly = total - seconds(fillTime)
    print("span: \(spanDays) days; events: \(eventCount), applied: \(applied), late (dropped): \(late), planned out-of-order: \(outOfOrderPlanned), active entities: \(states.count)")
    print(String("apply incl. dictionary lookup + event fill: \(Int(Double(applied) / total)) events/s"))
    print("event fill alone: \(Int(seconds(fillTime) / Double(eventCount) * 1e9)) ns/event")
    print("features only (apply + dictionary, fill subtracted): \(Int(Double(applied) / featuresOnly)) events/s, \(Int(featuresOnly / Double(applied) * 1e9)) ns/event")
    // The machine is shared: CPU time of this process is the fairer "one core" figure.
    let cpuFeatures = cpuApply - seconds(fillTime)
    print("process CPU time instead of wall time: apply incl. dictionary + fill \(Int(Double(applied) / cpuApply)) events/s; features only \(Int(Double(applied) / cpuFeatures)) events/s, \(Int(cpuFeatures / Double(applied) * 1e9)) ns/event (wall/CPU ratio \(String(format: "%.2f", total / cpuApply)))")
    print("eviction: \(eventCount / evictEvery) passes over all states, \(Int(seconds(evictTime) * 1e3)) ms total")

    // ---- state size and (de)serialization ----
    let watermark = tracker.watermark(allowedLatenessMillis: allowedLateness)
    var index = states.values.startIndex
    while index != states.values.endIndex {
        states.values[index].evict(olderThan: watermark)
        index = states.values.index(after: index)
    }
    var sizes: [Int] = []
    sizes.reserveCapacity(states.count)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 16)
    var blobs: [[UInt8]] = []
    blobs.reserveCapacity(states.count)
    let ordered = states.keys.sorted()
    let serializeTime = clock.measure {
        for key in ordered {
            buffer.removeAll(keepingCapacity: true)
            states[key]!.serialize(into: &buffer)
            sizes.append(buffer.count)
        }
    }
    for key in ordered {
        var b: [UInt8] = []
        states[key]!.serialize(into: &b)
        blobs.append(b)
    }
    var restoredTiles = 0
    var failures = 0
    let deserializeTime = clock.measure {
        for b in blobs {
            do {
                let s = try EntityState(deserializing: b[...], engine: engine)
                restoredTiles &+= s.tileCount
            } catch {
                failures += 1
            }
        }
    }
    sizes.sort()
    let totalBytes = sizes.reduce(0, +)
    print("serialized state: average \(totalBytes / sizes.count) B/entity, p50 \(sizes[sizes.count / 2]) B, p99 \(sizes[sizes.count * 99 / 100]) B, max \(sizes.last ?? 0) B, total \(totalBytes / 1_048_576) MiB over \(sizes.count) entities")
    print("serialize: \(Int(seconds(serializeTime) / Double(sizes.count) * 1e9)) ns/entity; deserialize: \(Int(seconds(deserializeTime) / Double(sizes.count) * 1e9)) ns/entity (failures: \(failures))")
    // Warm cost for one typical (median-size) entity: the CPU work of (de)serializing, without the cache
    // misses of visiting 80 000 cold states in a row (a checkpoint writes recently updated states).
    var typicalKey = ordered[0]
    var typicalBytes: [UInt8] = []
    let median = sizes[sizes.count / 2]
    for key in ordered {
        var b: [UInt8] = []
        states[key]!.serialize(into: &b)
        if b.count == median { typicalKey = key; typicalBytes = b; break }
    }
    let typical = states[typicalKey]!
    let rounds = 200_000
    let warmSerialize = clock.measure {
        for _ in 0..<rounds {
            buffer.removeAll(keepingCapacity: true)
            typical.serialize(into: &buffer)
            sink &+= buffer.count
        }
    }
    let warmDeserialize = clock.measure {
        for _ in 0..<rounds {
            if let s = try? EntityState(deserializing: typicalBytes[...], engine: engine) { sink &+= s.tileCount }
        }
    }
    print("typical entity (\(median) B, \(typical.tileCount) tiles), warm: serialize \(Int(seconds(warmSerialize) / Double(rounds) * 1e9)) ns, deserialize \(Int(seconds(warmDeserialize) / Double(rounds) * 1e9)) ns")
    print("checksum \(sink &+ restoredTiles)")
}

runBenchmark()
