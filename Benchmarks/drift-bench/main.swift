// drift-bench: cost of the sketch-based sliding window with 30 features.
// Build and run: swift build -c release && .build/release/drift-bench
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceMonitoring

/// CPU time of this thread in nanoseconds (robust to other processes sharing the cores).
func threadCPUNanoseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
}

struct Rng {
    var state: UInt64
    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
}

let numericalFeatures = 25
let categoricalFeatures = 5
let features = numericalFeatures + categoricalFeatures
let categories = (0..<20).map { "cat\($0)" }

func profile(referenceRows: Int, rng: inout Rng) -> ReferenceProfile {
    var columns: [FeatureProfile] = []
    for f in 0..<numericalFeatures {
        let values = (0..<referenceRows).map { _ in (rng.uniform() + rng.uniform()) * Double(f + 1) }
        columns.append(FeatureProfile.numerical(name: "n\(f)", values: values, bins: 200))
    }
    for f in 0..<categoricalFeatures {
        let values: [String?] = (0..<referenceRows).map { _ in categories[Int(rng.uniform() * rng.uniform() * 20)] }
        columns.append(FeatureProfile.categorical(name: "c\(f)", values: values))
    }
    return ReferenceProfile(source: "bench", features: columns)
}

func nanoseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

func run(label: String, referenceRows: Int) throws {
    var rng = Rng(state: 42)
    let reference = profile(referenceRows: referenceRows, rng: &rng)
    var window = try SlidingWindow(profile: reference, policy: .count(events: 100_000, subwindows: 20))
    // Pre-generate events so the timing measures the window, not the generator.
    let eventCount = 400_000
    var events = [Double](repeating: 0, count: eventCount * features)
    for e in 0..<eventCount {
        for f in 0..<numericalFeatures { events[e * features + f] = (rng.uniform() + rng.uniform()) * Double(f + 1) }
        for f in 0..<categoricalFeatures {
            events[e * features + numericalFeatures + f] = window.categoryCode(feature: numericalFeatures + f, categories[Int(rng.uniform() * rng.uniform() * 20)])
        }
    }
    let clock = ContinuousClock()
    var due = 0
    let addCPU0 = threadCPUNanoseconds()
    let addTime = clock.measure {
        events.withUnsafeBufferPointer { all in
            for e in 0..<eventCount {
                let row = UnsafeBufferPointer(rebasing: all[(e * features)..<((e + 1) * features)])
                if window.add(values: row) { due += 1 }
            }
        }
    }
    let addCPU = threadCPUNanoseconds() - addCPU0
    var drifted = 0
    let rounds = 100
    let evalCPU0 = threadCPUNanoseconds()
    let evalTime = clock.measure {
        for _ in 0..<rounds { drifted += window.evaluate().driftedFeatures }
    }
    let evalCPU = threadCPUNanoseconds() - evalCPU0
    let tests = Set(window.evaluate().features.map(\.result.test.rawValue)).sorted()
    print("\(label): reference \(referenceRows) rows, tests \(tests)")
    print("  add:      \(format2(addCPU / Double(eventCount))) ns/event CPU, \(format2(nanoseconds(addTime) / Double(eventCount))) ns/event wall (30 features, \(due) sub-windows closed)")
    print("  evaluate: \(format2(evalCPU / Double(rounds) / 1000)) µs/evaluation CPU, \(format2(nanoseconds(evalTime) / Double(rounds) / 1000)) µs wall (30 features, 100,000-event window, 20 sub-windows; \(drifted / rounds) drifted)")
}

func format2(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}

try run(label: "default rule, large reference (Wasserstein + Jensen-Shannon)", referenceRows: 5000)
try run(label: "default rule, small reference (KS + chi-square)", referenceRows: 1000)

// Worst realistic exact KS p-value: reference 1000 vs a 9,999-event window (coprime sizes).
do {
    let t0 = threadCPUNanoseconds()
    var p = 0.0
    for d in [0.02, 0.05] { p += KolmogorovSmirnov.pValue(statistic: d, n1: 1000, n2: 9999) }
    print("KS exact p-value, 1000 vs 9999 events: \(format2((threadCPUNanoseconds() - t0) / 2 / 1e6)) ms CPU each (sum \(p))")
    let t1 = threadCPUNanoseconds()
    var q = 0.0
    for d in [0.02, 0.05] { q += KolmogorovSmirnov.pValue(statistic: d, n1: 1000, n2: 100_000) }
    print("KS asymptotic p-value, 1000 vs 100000 events: \(format2((threadCPUNanoseconds() - t1) / 2 / 1e3)) µs CPU each (sum \(q))")
}
