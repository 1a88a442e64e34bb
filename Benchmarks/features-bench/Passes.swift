import SluiceFeatures

// The measured loops run inside `measuredPass`, which only calls its closure; it exists (never inlined)
// so that callgrind can count exactly the measured events:
//   valgrind --tool=callgrind --toggle-collect='*measuredPass*' .build/release/features-bench ...
// It returns a value so that the closure call is not a tail call (callgrind would leave the function).
// Warm-up chunks call their closure directly: a `warmupPass` twin would be merged with this function by
// the optimizer (they would differ in a constant only) and counted too.
@inline(never) @discardableResult
func measuredPass(_ body: () -> Void) -> Int {
    body()
    return 1
}

/// Runs `pass` over `0 ..< events` in chunks that end at every multiple of `evictEvery` (where `evict`
/// runs, timed apart) and at `measureStart`; chunks from `measureStart` on run inside `measuredPass`.
///
/// - Returns: the time of the measured chunks and of the evictions after measured chunks.
func drive(events: Int, measureStart: Int, evictEvery: Int, pass: (Range<Int>) -> Void, evict: () -> Void) -> (measured: Timing, eviction: Timing) {
    var measured = Timing()
    var eviction = Timing()
    var start = 0
    while start < events {
        var end = Swift.min(events, (start / evictEvery + 1) * evictEvery)
        if start < measureStart && end > measureStart { end = measureStart }
        let range = start..<end
        if start >= measureStart {
            measured = measured + Timing.measure { measuredPass { pass(range) } }
        } else {
            pass(range)
        }
        if end % evictEvery == 0 {
            let t = Timing.measure(evict)
            if start >= measureStart { eviction = eviction + t }
        }
        start = end
    }
    return (measured, eviction)
}

/// Applies `events[j]` as the worker does: its values borrowed from the buffer, not the event copied
/// (`FeatureEngine.apply(eventTime:values:to:output:)`). Declared here, not in main.swift: a closure written in
/// top-level code is main-actor isolated, and Swift 6 checks the executor each time one is called.
@inline(__always)
func applyBorrowed(_ engine: FeatureEngine, _ events: UnsafeBufferPointer<DecodedEvent>, _ j: Int, to state: inout EntityState, output: inout [FieldValue]) {
    events[j].values.withUnsafeBufferPointer { engine.apply(eventTime: events[j].eventTimeMillis, values: $0, to: &state, output: &output) }
}

/// A cheap fold of every output value, so that producing them cannot be optimized away.
@inline(__always)
func checksum(_ output: [FieldValue]) -> UInt64 {
    var sum: UInt64 = 0
    output.withUnsafeBufferPointer { values in
        for v in values {
            switch v {
            case .double(let d): sum = sum &* 31 &+ d.bitPattern
            case .int(let i): sum = sum &* 31 &+ UInt64(bitPattern: i)
            case .string(let s): sum = sum &* 31 &+ UInt64(s.utf8.count)
            case .bool(let b): sum = sum &* 31 &+ (b ? 1 : 2)
            case .null: sum = sum &* 31 &+ 3
            }
        }
    }
    return sum
}

/// Counters of one pass over a workload.
struct PassCounts {
    var applied = 0
    var late = 0
    var failures = 0
    var sink: UInt64 = 0
}
