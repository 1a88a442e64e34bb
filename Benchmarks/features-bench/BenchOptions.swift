/// Command-line options of features-bench.
///
/// `features-bench [events] [spanDays] [--json] [--sections engine,pipeline,state] [--rounds R]
/// [--step-ms S] [--measure-last M] [--dictionary]`; the two positional numbers keep the old invocation
/// working.
struct BenchOptions {
    /// Events in each workload.
    var events = 2_000_000
    /// Event-time span of the engine-only workload (default: 14 days per 5 M events, the density of the
    /// original benchmark).
    var spanDays: Double?
    /// Event-time step between demo events of the decode + features workload, in milliseconds (default:
    /// the same density, 14 days per 5 M events ≈ 242 ms; the demo generator's own default is 10 ms).
    var stepMillis: Int64?
    /// Print one JSON object instead of text.
    var json = false
    /// Which parts to run.
    var sections: Set<String> = ["engine", "pipeline", "state"]
    /// Rounds of the decode + features measurement (each from empty entity states); the fastest is reported.
    var rounds = 3
    /// Count only the last M events of each measured pass (the rest warm the states up first); for
    /// `valgrind --tool=callgrind --toggle-collect='*measuredPass*'`.
    var measureLast: Int?
    /// Also run the decode + features pass with a `[String: EntityState]` dictionary for comparison.
    var dictionary = false
    /// Distinct users of the decode + features workload (Zipf(1.1) over them).
    var entities = 100_000
    /// Events per micro-batch of the decode + features pass: each batch is decoded, looked up
    /// (`EntityStateTable.find(_:id:into:)`) and then applied with the entity states prefetched in two
    /// stages, 2 × `ahead` and `ahead` events early, as the worker processes a polled batch. The default
    /// is 500, the default `kafka.consumer.poll_batch_size`: the batch a busy worker polls.
    /// 0: one event at a time.
    var batch = 500
    /// Prefetch distance in events for batched passes.
    var ahead = 4

    static let usage = """
        usage: features-bench [events] [spanDays] [--events N] [--days D] [--step-ms S] [--rounds R] [--entities E]
                              [--batch B] [--ahead D]
                              [--sections engine,pipeline,state] [--measure-last M] [--dictionary] [--json]
        """

    init(arguments: [String]) throws(BenchUsageError) {
        var positional: [String] = []
        var i = 0
        func value(_ name: String) throws(BenchUsageError) -> String {
            i += 1
            guard i < arguments.count else { throw BenchUsageError(message: "\(name) needs a value") }
            return arguments[i]
        }
        func number<T: LosslessStringConvertible>(_ name: String, _ text: String) throws(BenchUsageError) -> T {
            guard let v = T(text) else { throw BenchUsageError(message: "\(name): '\(text)' is not a number") }
            return v
        }
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--json": json = true
            case "--dictionary": dictionary = true
            case "--events": events = try number(a, try value(a))
            case "--days": spanDays = try number(a, try value(a))
            case "--step-ms": stepMillis = try number(a, try value(a))
            case "--rounds": rounds = try number(a, try value(a))
            case "--entities": entities = try number(a, try value(a))
            case "--batch": batch = try number(a, try value(a))
            case "--ahead": ahead = try number(a, try value(a))
            case "--measure-last": measureLast = try number(a, try value(a))
            case "--sections":
                sections = Set(try value(a).split(separator: ",").map(String.init))
                let unknown = sections.subtracting(["engine", "pipeline", "state"])
                guard unknown.isEmpty else { throw BenchUsageError(message: "unknown sections \(unknown.sorted()); expected engine, pipeline, state") }
            case "-h", "--help": throw BenchUsageError(message: "")
            default:
                guard !a.hasPrefix("--") else { throw BenchUsageError(message: "unknown option \(a)") }
                positional.append(a)
            }
            i += 1
        }
        if positional.count > 0 { events = try number("events", positional[0]) }
        if positional.count > 1 { spanDays = try number("spanDays", positional[1]) }
        guard events > 0, rounds > 0, entities > 0 else { throw BenchUsageError(message: "events, rounds and entities must be positive") }
        guard batch >= 0, ahead >= 0 else { throw BenchUsageError(message: "batch and ahead must not be negative") }
        if let m = measureLast { guard m > 0 && m <= events else { throw BenchUsageError(message: "--measure-last must be in 1...events") } }
    }

    /// The engine-only workload's span.
    var effectiveSpanDays: Double { spanDays ?? 14 * Double(events) / 5_000_000 }

    /// The demo workload's step: 14 days per 5 M events unless given.
    var effectiveStepMillis: Int64 { stepMillis ?? Int64((14 * 86_400_000.0 / 5_000_000).rounded()) }

    /// The first event index that is measured.
    var measureStart: Int { events - (measureLast ?? events) }
}

/// A bad command line; the message says what was wrong.
struct BenchUsageError: Error {
    var message: String
}
