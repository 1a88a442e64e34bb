// export-bench: rows/s writing a 1,000,000-row snapshot (30 double features,
// label, score, model version, event time, entity id, prediction id) to
// Parquet (uncompressed, snappy) and CSV, with peak RSS per format.
//
// Usage: swift build -c release && .build/release/export-bench [all|parquet|snappy|csv] [rows] [dir]
// `all` (the default) runs each format in a child process so that each
// peak RSS is that format's own.
import Foundation
import SluiceExport

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "all"
let rows = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
let directory = arguments.count > 3 ? arguments[3] : FileManager.default.temporaryDirectory.path

let featureCount = 30
let columns: [ParquetColumn] = (0..<featureCount).map { .required("f\($0)", .double) } + [
    .optional("label", .double),
    .required("score", .double),
    .required("model_version", .int32),
    .required("event_time", .timestamp(.micros)),
    .required("entity_id", .string),
    .required("prediction_id", .string),
]

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Writes `count` decimal digits of `value` (zero padded) at `offset`.
func putDigits(_ value: Int, count: Int, at offset: Int, in bytes: UnsafeMutableRawBufferPointer) {
    var value = value
    for index in stride(from: offset + count - 1, through: offset, by: -1) {
        bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
        value /= 10
    }
}

func fill<W: SnapshotTableWriter>(_ writer: W, rows: Int) throws {
    var state: UInt64 = 0x1234_5678_9ABC_DEF1
    var entity = Array("e0000000".utf8)
    var prediction = Array("events/0/00000000000".utf8)
    let base: Int64 = 1_700_000_000_000_000
    for row in 0..<rows {
        for feature in 0..<featureCount {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            try writer.appendDouble(column: feature, Double(state >> 11) * 0x1p-53 * 100)
        }
        if row % 10 == 0 {
            try writer.appendNull(column: featureCount)
        } else {
            try writer.appendDouble(column: featureCount, Double(row & 1))
        }
        try writer.appendDouble(column: featureCount + 1, Double(state >> 11) * 0x1p-53)
        try writer.appendInt32(column: featureCount + 2, 7)
        try writer.appendTimestamp(column: featureCount + 3, base + Int64(row) * 1_000)
        let entityID = Int(state % 10_000_000)
        try entity.withUnsafeMutableBytes { bytes in
            putDigits(entityID, count: 7, at: 1, in: bytes)
            try writer.appendString(column: featureCount + 4, utf8: UnsafeRawBufferPointer(bytes))
        }
        try prediction.withUnsafeMutableBytes { bytes in
            putDigits(row % 8, count: 1, at: 7, in: bytes)
            putDigits(row, count: 11, at: 9, in: bytes)
            try writer.appendString(column: featureCount + 5, utf8: UnsafeRawBufferPointer(bytes))
        }
        try writer.endRow()
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Appends all rows, then closes (fsync + rename); returns (append seconds, close seconds, bytes).
func timed<W: SnapshotTableWriter>(_ writer: W, rows: Int) throws -> (Double, Double, Int64) {
    let start = now()
    try fill(writer, rows: rows)
    let appended = now()
    try writer.close()
    return (appended - start, now() - appended, writer.bytesWritten)
}

func runOne(_ mode: String) throws {
    let schema = try ParquetSchema(columns)
    let cpuStart = cpuSeconds()
    let result: (Double, Double, Int64)
    let path: String
    switch mode {
    case "parquet", "snappy":
        var options = ParquetWriterOptions()
        options.compression = mode == "snappy" ? .snappy : .uncompressed
        options.keyValueMetadata = [(key: "sluice.snapshot_id", value: "bench")]
        path = directory + "/export-bench-\(mode).parquet"
        result = try timed(try ParquetWriter(path: path, schema: schema, options: options), rows: rows)
    case "csv":
        path = directory + "/export-bench.csv"
        result = try timed(try CSVWriter(path: path, schema: schema), rows: rows)
    default:
        fatalError("unknown mode \(mode); expected all, parquet, snappy or csv")
    }
    let cpu = cpuSeconds() - cpuStart
    let (appendSeconds, closeSeconds, bytes) = result
    let wall = appendSeconds + closeSeconds
    func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    print(
        "\(mode): rows=\(rows) file=\(format(Double(bytes) / 1_048_576, 1)) MiB | "
            + "wall \(format(wall, 2))s = \(format(Double(rows) / wall, 0)) rows/s "
            + "(append \(format(appendSeconds, 2))s, close+fsync \(format(closeSeconds, 2))s) | "
            + "cpu \(format(cpu, 2))s = \(format(Double(rows) / cpu, 0)) rows/s per core | "
            + "peak RSS \(format(peakRSSMiB(), 1)) MiB")
    if ProcessInfo.processInfo.environment["EXPORT_BENCH_KEEP"] == nil {
        try? FileManager.default.removeItem(atPath: path)
    }
}

if mode == "all" {
    for child in ["parquet", "snappy", "csv"] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = [child, String(rows), directory]
        try process.run()
        process.waitUntilExit()
    }
} else {
    try runOne(mode)
}
