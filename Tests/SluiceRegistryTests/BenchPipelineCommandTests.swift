import Foundation
import Testing

/// `sluice bench pipeline` end to end on a small load, in both modes: the figures it reports are the ones issue 8's
/// comparisons rest on, so a run must account for every event and report consistent figures. (How fast it runs is
/// measured with the release build, not here.)
@Suite("sluice bench pipeline", .serialized, .timeLimit(.minutes(4)))
struct BenchPipelineCommandTests {
    /// Runs the bench (seconds) without holding a cooperative thread.
    static func run(_ arguments: [String]) async throws -> [String: Any] {
        let run = try await ModelsCommandTests.sluiceOffThePool(["bench", "pipeline", "--postgres-url", try Scratch.url, "--json", "--partitions", "2",
                                                                 "--warmup", "0.5"] + arguments)
        try #require(run.status == 0, "exit status \(run.status), stderr \(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "JSON on stdout: \(run.stdout)")
    }

    /// Every event scored once and every prediction seen by the probe; latency percentiles in order; CPU for every
    /// process of the run.
    static func expectAccountedFor(_ result: [String: Any], events: Int) throws {
        #expect(result["events"] as? Int == events)
        #expect(result["predictions"] as? Int == events)
        #expect(result["missing_predictions"] as? Int == 0)
        #expect(result["dead_lettered"] as? Int == 0)
        #expect((result["events_per_sec"] as? Double ?? 0) > 0)
        #expect((result["peak_rss_bytes"] as? Int ?? 0) > 0)
        let latency = try #require(result["latency_ms"] as? [String: Double])
        let p50 = try #require(latency["p50"]), p99 = try #require(latency["p99"]), p999 = try #require(latency["p999"])
        #expect(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= latency["max"] ?? 0, "\(latency)")
        let cpu = try #require(result["cpu_seconds_per_million_by_process"] as? [String: Double])
        for process in ["worker", "postgres_worker_backends", "kafka_dev_cluster", "producer", "probe"] {
            #expect((cpu[process] ?? 0) > 0, "\(process) in \(cpu)")
        }
    }

    @Test func aFixedRateRunScoresEveryEventAndTimesItsPrediction() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
        let result = try await Self.run(["--rate", "1000", "--events", "3000", "--no-bound"])
        #expect(result["mode"] as? String == "fixed_rate")
        #expect(result["latency_kind"] as? String == "end_to_end")
        try Self.expectAccountedFor(result, events: 3_000)
        // Events due in the warm-up (0.5 s at 1,000/s) are not timed.
        #expect((result["latency_ms"] as? [String: Double])?["count"] == 2_500)
    }

    @Test func aSaturationRunComparesItselfWithPostgreSQLAlone() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ModelsCommandTests.binary), "build sluice first (swift build)")
        let result = try await Self.run(["--events", "5000"])
        #expect(result["mode"] as? String == "saturation")
        try Self.expectAccountedFor(result, events: 5_000)
        let bound = try #require(result["bound"] as? [String: Any])
        #expect(bound["rows"] as? Int == 5_000, "the bound replays the run's rows")
        let rowsPerSecond = try #require(bound["rows_per_sec"] as? Double)
        let ratio = try #require(result["ratio_to_bound"] as? Double)
        let eventsPerSecond = try #require(result["events_per_sec"] as? Double)
        #expect(abs(ratio - eventsPerSecond / rowsPerSecond) < 1e-9 * max(1, ratio))
        #expect((result["ratio_at_bound_cpu"] as? Double ?? 0) > 0)
    }
}
