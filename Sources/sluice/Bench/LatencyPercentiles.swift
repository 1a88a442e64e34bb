import Foundation

/// Latency percentiles in milliseconds, by the nearest-rank method: the p-th percentile of n sorted values is
/// the value at rank ⌈p/100 · n⌉ (so p99.9 of 1,000 values is the largest but one, and never interpolated).
struct LatencyPercentiles: Codable, Equatable {
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var mean: Double
    /// The number of values summarised.
    var count: Int

    /// Summarises durations given in nanoseconds; nil for none.
    init?(nanoseconds values: [UInt64]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ fraction: Double) -> Double {
            let index = Swift.max(0, Swift.min(sorted.count - 1, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1e6
        }
        p50 = rank(0.5)
        p90 = rank(0.9)
        p99 = rank(0.99)
        p999 = rank(0.999)
        max = Double(sorted[sorted.count - 1]) / 1e6
        mean = sorted.reduce(0.0) { $0 + Double($1) } / Double(sorted.count) / 1e6
        count = sorted.count
    }

    /// `p50 4.1 ms  p99 12.3 ms  p99.9 20.1 ms  max 35.0 ms`.
    var text: String {
        func ms(_ value: Double) -> String { String(format: value < 10 ? "%.2f ms" : "%.1f ms", value) }
        return "p50 \(ms(p50))  p90 \(ms(p90))  p99 \(ms(p99))  p99.9 \(ms(p999))  max \(ms(max))"
    }
}

/// A file of one `UInt64` per event index (host-clock nanoseconds; 0 = none), written by the pipeline bench's
/// producer (when each event was due or sent) and its probe (when each prediction arrived).
enum EventTimesFile {
    static func write(_ times: [UInt64], to path: String) throws {
        try times.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
    }

    static func read(_ path: String, count: Int) throws -> [UInt64] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var times = [UInt64](repeating: 0, count: count)
        times.withUnsafeMutableBytes { target in
            data.withUnsafeBytes { source in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(target.count)))
            }
        }
        return times
    }
}
