// snapshot-bench: rows/s of a labelled snapshot export (PostgreSQL COPY → Parquet + CSV + manifest) and its peak RSS.
//
// Usage: swift build -c release --product snapshot-bench
//        .build/release/snapshot-bench [all|fill|export] [--rows N] [--features F] [--row-group-rows R] [--repeat K]
//                                      [--url URL] [--schema NAME] [--dir DIR] [--keep]
//
// `fill` replaces schema NAME (default snapbench) with the feature store's tables and COPYs N labelled rows
// (default 1,000,000) with F numeric features (default 30) into `labelled`: a third full-precision doubles, a third
// two-decimal amounts, a third whole counts — written as the worker's feature log writes them (`{"f00":12.5,…}`,
// Swift's shortest round-trip text). `export` times K exports of every row (holdout 0.2, snappy Parquet, CSV in
// the same pass) and prints rows/s, CPU time and peak RSS. `all` (the default) fills, then runs `export` in a child
// process so the peak RSS is the export's alone. The URL defaults to $SLUICE_TEST_POSTGRES_URL, then
// $SLUICE_POSTGRES_URL.
import Foundation
import Logging
import SluiceFeatureStore
import SluicePostgres
import SluiceSnapshots

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var mode = "all"
    var rows = 1_000_000
    var features = 30
    var rowGroupRows = 65_536
    var repeats = 3
    var url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] ?? ProcessInfo.processInfo.environment["SLUICE_POSTGRES_URL"] ?? ""
    var schema = "snapbench"
    var directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-bench").path
    var keep = false

    init(_ arguments: [String]) {
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { fail("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        func number(_ text: String) -> Int {
            guard let value = Int(text.replacingOccurrences(of: "_", with: "")), value > 0 else { fail("'\(text)' is not a positive integer") }
            return value
        }
        while index < arguments.count {
            switch arguments[index] {
            case "all", "fill", "export": mode = arguments[index]
            case "--rows": rows = number(value())
            case "--features": features = number(value())
            case "--row-group-rows": rowGroupRows = number(value())
            case "--repeat": repeats = number(value())
            case "--url": url = value()
            case "--schema": schema = value()
            case "--dir": directory = value()
            case "--keep": keep = true
            default: fail("unknown argument '\(arguments[index])'; expected all|fill|export, --rows, --features, --row-group-rows, --repeat, --url, --schema, --dir or --keep")
            }
            index += 1
        }
        if url.isEmpty { fail("no PostgreSQL URL: pass --url or set SLUICE_TEST_POSTGRES_URL") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("snapshot-bench: \(message)\n".utf8))
    exit(2)
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

let logger: Logger = {
    var logger = Logger(label: "snapshot-bench")
    logger.logLevel = .warning
    return logger
}()

/// Replaces the schema and COPYs the rows.
func fill(_ options: Options) async throws {
    let connection = try await PostgresConnection.connect(url: options.url, logger: logger)
    try await connection.execute("DROP SCHEMA IF EXISTS \(options.schema) CASCADE")
    try await FeatureStoreMigrations.migrate(connection, schema: options.schema)
    let start = ContinuousClock.now
    let rows = options.rows
    let featureCount = options.features
    let names = (0..<featureCount).map { String(format: "f%02d", $0) }
    let prefixes: [[UInt8]] = names.enumerated().map { index, name in Array(((index == 0 ? "{\"" : ",\"") + name + "\":").utf8) }
    let base: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    let batch = 100_000
    for first in stride(from: 0, to: rows, by: batch) {
        let last = min(first + batch, rows)
        try await connection.copyInBinary("""
            COPY \(options.schema).labelled (prediction_id, event_id, entity, event_time, model_name, model_version, score, features,
                                             label, label_time, label_topic, label_partition, label_offset)
            FROM STDIN (FORMAT binary)
            """) { encoder in
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(first)
            func next() -> Double {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return Double(state >> 11) * 0x1p-53
            }
            var json: [UInt8] = []
            json.reserveCapacity(featureCount * 28)
            for row in first..<last {
                json.removeAll(keepingCapacity: true)
                for feature in 0..<featureCount {
                    json += prefixes[feature]
                    let value: Double
                    switch feature % 3 {
                    case 0: value = next() * 100  // full precision
                    case 1: value = (next() * 50_000).rounded() / 100  // an amount
                    default: value = (next() * 40).rounded(.down)  // a count
                    }
                    json += Array(value.description.utf8)
                }
                json.append(UInt8(ascii: "}"))
                try encoder.beginRow(fieldCount: 13)
                try encoder.write("events/\(row % 8)/\(row / 8)")
                try encoder.write("ev-\(row)")
                try encoder.write("customer-\(row % 100_000)")
                try encoder.write(PostgresTimestamp(millisecondsSinceUnixEpoch: base + Int64(row) * 10))
                try encoder.write("fraud")
                encoder.write(Int32(3))
                encoder.write(next())
                try encoder.write(String(decoding: json, as: UTF8.self))
                encoder.write(next() < 0.1 ? 1.0 : 0.0)
                try encoder.write(PostgresTimestamp(millisecondsSinceUnixEpoch: base + Int64(row) * 10 + 3_600_000))
                try encoder.write("labels")
                encoder.write(Int32(0))
                encoder.write(Int64(row))
            }
        }
    }
    // Sets hint bits and the visibility map, as on any table older than a few minutes.
    try await connection.execute("VACUUM ANALYZE \(options.schema).labelled")
    let seconds = Double((ContinuousClock.now - start).components.attoseconds) / 1e18 + Double((ContinuousClock.now - start).components.seconds)
    let size = try await connection.query("SELECT pg_total_relation_size('\(options.schema).labelled')::int8").first?.decode(Int64.self, column: 0) ?? 0
    print("fill: \(rows) rows × \(featureCount) features into \(options.schema).labelled in \(format(seconds, 1))s (table \(format(Double(size) / 1_048_576, 0)) MiB)")
    await connection.close()
}

/// Times the exports.
func export(_ options: Options) async throws {
    let connection = try await PostgresConnection.connect(url: options.url, logger: logger)
    // The exporter's own log line gives the phases (stream, close + fsync + hash).
    var exportLogger = Logger(label: "snapshot-bench.export")
    exportLogger.logLevel = .info
    let exporter = try SnapshotExporter(connection: connection, schema: options.schema, logger: exportLogger)
    var rates: [Double] = []
    for run in 1...options.repeats {
        let request = SnapshotRequest(directory: options.directory, reason: .manual, holdoutFraction: 0.2, rowGroupRows: options.rowGroupRows)
        let cpuStart = cpuSeconds()
        let start = ContinuousClock.now
        let snapshot = try await exporter.export(request)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = cpuSeconds() - cpuStart
        let rows = Double(snapshot.manifest.rows)
        rates.append(rows / seconds)
        let parquet = snapshot.manifest.file(Snapshot.FileName.parquet)?.bytes ?? 0
        let csv = snapshot.manifest.file(Snapshot.FileName.csv)?.bytes ?? 0
        print("export \(run): \(snapshot.manifest.rows) rows, \(snapshot.manifest.columns.count) columns, \(snapshot.manifest.parquet.rowGroups) row groups "
              + "| wall \(format(seconds, 2))s = \(format(rows / seconds, 0)) rows/s | client cpu \(format(cpu, 2))s "
              + "| parquet \(format(Double(parquet) / 1_048_576, 0)) MiB, csv \(format(Double(csv) / 1_048_576, 0)) MiB "
              + "| peak RSS \(format(peakRSSMiB(), 1)) MiB")
        if !options.keep {
            try? FileManager.default.removeItem(atPath: snapshot.directory)
            try await connection.execute("DELETE FROM \(options.schema).snapshots WHERE snapshot_id = $1", [snapshot.snapshotID])
        }
    }
    let sorted = rates.sorted()
    print("export: median \(format(sorted[sorted.count / 2], 0)) rows/s, best \(format(sorted.last ?? 0, 0)) rows/s over \(rates.count) run(s); peak RSS \(format(peakRSSMiB(), 1)) MiB")
    await connection.close()
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
switch options.mode {
case "fill":
    try await fill(options)
case "export":
    try await export(options)
default:
    try await fill(options)
    fflush(nil)  // the fill line before the child's output
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    process.arguments = ["export"] + Array(CommandLine.arguments.dropFirst()).filter { $0 != "all" }
    try process.run()
    process.waitUntilExit()
    exit(process.terminationStatus)
}
