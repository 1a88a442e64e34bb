// pg-bench: throughput of the PostgreSQL layer against a real server.
//
//   swift build -c release --product pg-bench
//   .build/release/pg-bench "$(scripts/dev-postgres url)" [copyRows] [upsertBatches]
//
// 1. Binary COPY of rows (id int8, ts timestamptz, 24 × float8), 1,000,000 by default.
// 2. Batched upsert: INSERT … SELECT FROM unnest(...) ON CONFLICT DO UPDATE … WHERE
//    stored.event_time <= excluded.event_time, 10,000-row batches over 100,000
//    distinct keys with 10 float8 columns; each batch is BEGIN + upsert + COMMIT
//    in one pipelined round trip, as the feature store writes a micro-batch.
import SluicePostgres
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: pg-bench POSTGRES_URL [copyRows=1000000] [upsertBatches=30]")
    exit(2)
}
let url = arguments[1]
let copyRows = arguments.count > 2 ? Int(arguments[2]) ?? 1_000_000 : 1_000_000
let upsertBatches = arguments.count > 3 ? Int(arguments[3]) ?? 30 : 30

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let conn = try await PostgresConnection.connect(configuration: PostgresConfiguration(url, applicationName: "pg-bench"))
let suffix = UInt32.random(in: 0...UInt32.max)
let clock = ContinuousClock()

// MARK: binary COPY
let copyTable = "bench_copy_\(suffix)"
let featureColumns = (0..<24).map { "f\($0) float8" }.joined(separator: ", ")
try await conn.execute("CREATE TABLE \(copyTable) (id int8, ts timestamptz, \(featureColumns))")
let columnList = "id, ts, " + (0..<24).map { "f\($0)" }.joined(separator: ", ")
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}
let copyCPUStart = cpuSeconds()
let copyStart = clock.now
let copied = try await conn.copyInBinary("COPY \(copyTable) (\(columnList)) FROM STDIN (FORMAT binary)") { encoder in
    let base: Int64 = 1_700_000_000_000_000
    var features = [Double](repeating: 0, count: 24)
    for i in 0..<copyRows {
        try encoder.beginRow(fieldCount: 26)
        encoder.write(Int64(i))
        try encoder.write(PostgresTimestamp(microsecondsSinceUnixEpoch: base + Int64(i) * 1000))
        let x = Double(i)
        for f in 0..<24 { features[f] = x * 0.001 + Double(f) }
        features.withUnsafeBufferPointer { encoder.write(doubles: $0) }
    }
}
let copyElapsed = seconds(clock.now - copyStart)
let copyCPU = cpuSeconds() - copyCPUStart
precondition(copied == copyRows, "COPY reported \(copied) rows, expected \(copyRows)")
let tableSize = try await conn.query("SELECT pg_size_pretty(pg_total_relation_size($1::regclass))", [copyTable]).first?.decode(String.self, column: 0) ?? "?"
try await conn.execute("DROP TABLE \(copyTable)")
print("binary COPY: \(copyRows) rows (id int8, ts timestamptz, 24 × float8) in \(String(format2: copyElapsed)) s = \(Int(Double(copyRows) / copyElapsed)) rows/s (table \(tableSize)); client CPU \(String(format2: copyCPU)) s = \(Int(Double(copyRows) / max(copyCPU, 1e-9))) rows per client-CPU-second")

// MARK: batched upsert
let upsertTable = "bench_upsert_\(suffix)"
let valueColumns = (0..<10).map { "v\($0)" }
try await conn.execute("CREATE TABLE \(upsertTable) (k text PRIMARY KEY, event_time timestamptz NOT NULL, \(valueColumns.map { "\($0) float8" }.joined(separator: ", ")))")
let unnestArgs = (["$1::text[]", "$2::timestamptz[]"] + (0..<10).map { "$\($0 + 3)::float8[]" }).joined(separator: ", ")
let upsertSQL = """
    INSERT INTO \(upsertTable) AS stored (k, event_time, \(valueColumns.joined(separator: ", ")))
    SELECT * FROM unnest(\(unnestArgs))
    ON CONFLICT (k) DO UPDATE SET event_time = excluded.event_time, \(valueColumns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
    WHERE stored.event_time <= excluded.event_time
    """
let batchSize = 10_000
let distinctKeys = 100_000
let allKeys = (0..<distinctKeys).map { "entity-\($0)" }
var upsertSeconds = 0.0
var insertPhaseSeconds = 0.0
var updatePhaseSeconds = 0.0
var encodeSeconds = 0.0
var upserted = 0
for batch in 0..<upsertBatches {
    let encodeStart = clock.now
    let first = (batch * batchSize) % distinctKeys
    let keys = Array(allKeys[first..<(first + batchSize)])
    let times = (0..<batchSize).map { PostgresTimestamp(microsecondsSinceUnixEpoch: 1_700_000_000_000_000 + Int64(batch) * 1_000_000 + Int64($0)) }
    var binds = PostgresBindings()
    try binds.append(keys)
    try binds.append(times)
    for column in 0..<10 {
        try binds.append((0..<batchSize).map { Double(batch * 31 + column) + Double($0) * 0.5 })
    }
    let start = clock.now
    encodeSeconds += seconds(start - encodeStart)
    let results = try await conn.pipeline { p in
        p.send("BEGIN")
        p.send(upsertSQL, binds)
        p.send("COMMIT")
    }
    let batchSeconds = seconds(clock.now - start)
    upsertSeconds += batchSeconds
    if batch * batchSize < distinctKeys { insertPhaseSeconds += batchSeconds } else { updatePhaseSeconds += batchSeconds }
    upserted += results[1].affectedRows
}
let stored = try await conn.query("SELECT count(*) FROM \(upsertTable)").first?.decode(Int64.self, column: 0) ?? -1
try await conn.execute("DROP TABLE \(upsertTable)")
let totalRows = upsertBatches * batchSize
if totalRows == 0 { upsertSeconds = 1 }
print("batched upsert: \(upsertBatches) batches × \(batchSize) rows over \(distinctKeys) keys (10 float8) in \(String(format2: upsertSeconds)) s = \(Int(Double(totalRows) / upsertSeconds)) rows/s (round trip only; client-side array building \(String(format2: encodeSeconds)) s); affected \(upserted), stored \(stored)")
let insertBatches = min(upsertBatches, distinctKeys / batchSize)
if insertBatches > 0 && upsertBatches > insertBatches {
    print("  new keys: \(Int(Double(insertBatches * batchSize) / insertPhaseSeconds)) rows/s; existing keys (update): \(Int(Double((upsertBatches - insertBatches) * batchSize) / updatePhaseSeconds)) rows/s")
}
await conn.close()

extension String {
    init(format2 value: Double) {
        let scaled = (value * 1000).rounded() / 1000
        self = "\(scaled)"
    }
}
