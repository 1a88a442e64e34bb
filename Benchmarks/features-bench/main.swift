// features-bench: cost of the example configuration's ten features (config/sluice.yaml) on one core.
//
// Sections:
// - engine:   FeatureEngine.apply + entity lookup on pre-built events (no JSON), 100 000 entities drawn
//             Zipf(1.1); entity states in a `[String: EntityState]` (as before) and in an
//             `EntityStateTable`; the cost of filling the events is measured apart and subtracted.
// - pipeline: decode (EventDecoder) + lateness + entity lookup (EntityStateTable) + apply + reading every
//             output value, from ~154-byte demo JSON events (DemoEventGenerator) in one buffer; in
//             batches of 500 events looked up together with the states prefetched, as the worker runs
//             a polled batch (`--batch 0`: one event at a time).
// - state:    serialized state size per entity and (de)serialization cost.
// Figures are per CPU second of the measuring thread; eviction passes (every 500 000 events, over all
// states) are timed apart and excluded from events/s.
//
// Run: swift build -c release --product features-bench && .build/release/features-bench [--json]
// Instructions per event: valgrind --tool=callgrind --toggle-collect='*measuredPass*' \
//   .build/release/features-bench --sections pipeline --rounds 1 --measure-last 200000
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceFeatures

let options: BenchOptions
do {
    options = try BenchOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    if !error.message.isEmpty { print(error.message) }
    print(BenchOptions.usage)
    exit(error.message.isEmpty ? 0 : 2)
}

let hour: Int64 = 3_600_000
let day: Int64 = 86_400_000
let allowedLateness: Int64 = 5 * 60_000
let evictEvery = 500_000

/// The ten features of config/sluice.yaml.
let specs: [FeatureSpec] = [
    FeatureSpec(name: "amount", kind: .value("amount")),
    FeatureSpec(name: "txn_count_1h", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: hour))),
    FeatureSpec(name: "txn_count_24h", kind: .aggregate(.count, of: nil, window: .sliding(durationMillis: day))),
    FeatureSpec(name: "amount_sum_1h", kind: .aggregate(.sum, of: "amount", window: .sliding(durationMillis: hour))),
    FeatureSpec(name: "amount_mean_24h", kind: .aggregate(.mean, of: "amount", window: .sliding(durationMillis: day))),
    FeatureSpec(name: "amount_max_24h", kind: .aggregate(.max, of: "amount", window: .sliding(durationMillis: day, tileMillis: hour))),
    FeatureSpec(name: "amount_std_7d", kind: .aggregate(.stddev, of: "amount", window: .sliding(durationMillis: 7 * day))),
    FeatureSpec(name: "merchants_7d", kind: .aggregate(.approxDistinct, of: "merchant", window: .sliding(durationMillis: 7 * day))),
    FeatureSpec(name: "last_country", kind: .aggregate(.last, of: "country", window: .lifetime)),
    FeatureSpec(name: "secs_since_last", kind: .aggregate(.timeSinceLast, of: nil, window: .lifetime)),
]

let engine: FeatureEngine
let decoder: EventDecoder
do {
    engine = try FeatureEngine(specs: specs, schema: DemoEventGenerator.schema)
    decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration())
} catch {
    print("invalid benchmark setup: \(error)")
    exit(1)
}

var report = Report(json: options.json)
report.value("events", options.events)
report.value("measured_events", options.events - options.measureStart)

// MARK: - engine only

var engineStates: [String: EntityState] = [:]
if options.sections.contains("engine") || options.sections.contains("state") {
    let workload = EngineWorkload(events: options.events, spanDays: options.effectiveSpanDays, allowedLateness: allowedLateness)
    let measured = options.events - options.measureStart
    var event = DecodedEvent()
    event.values = [.null, .null, .null]
    var output = [FieldValue](repeating: .null, count: specs.count)

    // Filling the events alone (what a decoder hands over), subtracted below.
    var fillSink = 0
    let fill = Timing.measure {
        measuredPass {
            for i in options.measureStart..<options.events {
                workload.fill(&event, i)
                fillSink &+= event.entityID.utf8.count
            }
        }
    }

    // [String: EntityState], as the worker keeps its states today.
    var counts = PassCounts()
    var tracker = LatenessTracker()
    // Each pass keeps its event in a local: a captured one would be copied into every `apply` call.
    let dictionaryRun = drive(events: options.events, measureStart: options.measureStart, evictEvery: evictEvery, pass: { range in
        var event = DecodedEvent()
        event.values = [.null, .null, .null]
        for i in range {
            workload.fill(&event, i)
            if tracker.isLate(event.eventTimeMillis, allowedLatenessMillis: allowedLateness) {
                counts.late += 1
                continue
            }
            tracker.observe(event.eventTimeMillis)
            engine.apply(event, to: &engineStates[event.entityID, default: engine.makeState()], output: &output)
            counts.applied += 1
            counts.sink &+= checksum(output)
        }
    }, evict: {
        let watermark = tracker.watermark(allowedLatenessMillis: allowedLateness)
        // Mutate through `values` by index: iterating `keys` while mutating would copy every state.
        var index = engineStates.values.startIndex
        while index != engineStates.values.endIndex {
            engineStates.values[index].evict(olderThan: watermark)
            index = engineStates.values.index(after: index)
        }
    })
    let dictionarySink = counts.sink

    // EntityStateTable.
    var table = EntityStateTable(engine: engine, minimumCapacity: EngineWorkload.entityCount)
    counts = PassCounts()
    tracker = LatenessTracker()
    let tableRun = drive(events: options.events, measureStart: options.measureStart, evictEvery: evictEvery, pass: { range in
        var event = DecodedEvent()
        event.values = [.null, .null, .null]
        for i in range {
            workload.fill(&event, i)
            if tracker.isLate(event.eventTimeMillis, allowedLatenessMillis: allowedLateness) {
                counts.late += 1
                continue
            }
            tracker.observe(event.eventTimeMillis)
            let (index, _) = table.findOrInsert(event.entityID)
            engine.apply(event, to: &table[index], output: &output)
            counts.applied += 1
            counts.sink &+= checksum(output)
        }
    }, evict: {
        let watermark = tracker.watermark(allowedLatenessMillis: allowedLateness)
        for i in table.indices { table[i].evict(olderThan: watermark) }
    })
    if counts.sink != dictionarySink { print("warning: dictionary and table runs produced different outputs") }

    // Applied events in the measured part (late events are skipped but their fill is paid).
    let appliedShare = Double(counts.applied) / Double(options.events - counts.late) // ≈ the measured share
    let applied = Int((Double(measured) * appliedShare).rounded())
    let dictionaryFeatures = dictionaryRun.measured - fill
    let tableFeatures = tableRun.measured - fill
    report.section("engine only: FeatureEngine.apply + entity lookup, pre-built events (fill cost subtracted)")
    report.line("workload: \(options.events) events over \(format(options.effectiveSpanDays)) days, \(EngineWorkload.entityCount) entities Zipf(1.1); applied \(counts.applied), late (dropped) \(counts.late), planned out-of-order \(workload.outOfOrderPlanned), active entities \(table.count)")
    report.value("engine_span_days", options.effectiveSpanDays)
    report.value("engine_active_entities", table.count)
    report.line("event fill alone: \(format(fill.cpu / Double(measured) * 1e9)) ns/event (subtracted below)")
    report.rate("engine_dictionary", label: "[String: EntityState] + apply", events: applied, timing: dictionaryFeatures)
    report.rate("engine_table", label: "EntityStateTable + apply", events: applied, timing: tableFeatures)
    report.line("eviction (all states every \(evictEvery) events): dictionary \(format(dictionaryRun.eviction.cpu * 1e3)) ms, table \(format(tableRun.eviction.cpu * 1e3)) ms CPU in total")
    report.value("engine_checksum", Int(truncatingIfNeeded: counts.sink &+ UInt64(fillSink)))
}

// MARK: - decode + features

var pipelineStates: [EntityState] = []
if options.sections.contains("pipeline") {
    let workload = PipelineWorkload(events: options.events, stepMillis: options.effectiveStepMillis, entities: options.entities)
    let measured = options.events - options.measureStart
    report.section("decode + features: EventDecoder.decode + lateness + entity lookup + apply + reading the 10 outputs, one thread")
    report.line("workload: \(options.events) demo JSON events, mean \(format(workload.meanBytes)) bytes, step \(options.effectiveStepMillis) ms (\(format(workload.spanDays)) days), \(options.entities) users Zipf(1.1), 5000 merchants")
    report.value("pipeline_mean_bytes", workload.meanBytes)
    report.value("pipeline_step_ms", Int(options.effectiveStepMillis))
    report.value("pipeline_span_days", workload.spanDays)

    // Decoding alone, for the split.
    var decodeBest = Timing(cpu: .infinity, wall: .infinity)
    var decodeSink = 0
    for _ in 0..<options.rounds {
        var event = DecodedEvent()
        let t = Timing.measure {
            measuredPass {
                workload.payloads.withUnsafeBytes { all in
                    workload.offsets.withUnsafeBufferPointer { off in
                        for i in options.measureStart..<options.events {
                            let slice = UnsafeRawBufferPointer(rebasing: all[off[i]..<off[i + 1]])
                            if decoder.decode(slice, nowMillis: workload.nowMillis, into: &event) == nil { decodeSink &+= event.entityID.utf8.count }
                        }
                    }
                }
            }
        }
        if t.cpu < decodeBest.cpu { decodeBest = t }
    }

    /// The decode + features loop in micro-batches, as the worker runs a polled batch: decode (and decide
    /// lateness, in order), look the batch's entities up together (`EntityStateTable.find`), then apply
    /// with each state prefetched `2 × ahead` (stage 0) and `ahead` (stage 1) events early, adding the
    /// entities that were missing.
    func batchedPass(
        _ range: Range<Int>, all: UnsafeRawBufferPointer, offsets off: UnsafeBufferPointer<Int>, table: inout EntityStateTable,
        tracker: inout LatenessTracker, output: inout [FieldValue], counts c: inout PassCounts
    ) {
        let size = options.batch
        var batch = [DecodedEvent](repeating: DecodedEvent(), count: size)
        var indices = [Int](repeating: 0, count: size)
        var i = range.lowerBound
        while i < range.upperBound {
            let n = Swift.min(size, range.upperBound - i)
            var m = 0
            for j in i..<i + n {
                let slice = UnsafeRawBufferPointer(rebasing: all[off[j]..<off[j + 1]])
                if decoder.decode(slice, nowMillis: workload.nowMillis, into: &batch[m]) != nil {
                    c.failures += 1
                    continue
                }
                let t = batch[m].eventTimeMillis
                if tracker.isLate(t, allowedLatenessMillis: allowedLateness) {
                    c.late += 1
                    continue
                }
                tracker.observe(t)
                m += 1
            }
            batch.withUnsafeBufferPointer { events in
                indices.withUnsafeMutableBufferPointer { ix in
                    table.find(m, id: { events[$0].entityID }, into: ix)
                    let d = options.ahead
                    for j in 0..<Swift.min(2 * d, m) where ix[j] >= 0 { table.prefetchState(at: ix[j]) }
                    for j in 0..<Swift.min(d, m) where ix[j] >= 0 { table.prefetchState(at: ix[j], stage: 1) }
                    for j in 0..<m {
                        if j + 2 * d < m, ix[j + 2 * d] >= 0 { table.prefetchState(at: ix[j + 2 * d]) }
                        if j + d < m, ix[j + d] >= 0 { table.prefetchState(at: ix[j + d], stage: 1) }
                        if ix[j] < 0 { ix[j] = table.findOrInsert(events[j].entityID).index }
                        applyBorrowed(engine, events, j, to: &table[ix[j]], output: &output)
                        c.applied += 1
                        c.sink &+= checksum(output)
                    }
                }
            }
            i += n
        }
    }

    func pipelineRounds(useTable: Bool) -> (best: Timing, eviction: Timing, counts: PassCounts, states: [EntityState]) {
        var best = Timing(cpu: .infinity, wall: .infinity)
        var bestEviction = Timing()
        var counts = PassCounts()
        var states: [EntityState] = []
        for _ in 0..<options.rounds {
            var table = EntityStateTable(engine: engine, minimumCapacity: options.entities)
            var dictionary: [String: EntityState] = [:]
            if !useTable { dictionary.reserveCapacity(options.entities) }
            var tracker = LatenessTracker()
            var output = [FieldValue](repeating: .null, count: specs.count)
            var c = PassCounts()
            let run = workload.payloads.withUnsafeBytes { all in
                workload.offsets.withUnsafeBufferPointer { off in
                    drive(events: options.events, measureStart: options.measureStart, evictEvery: evictEvery, pass: { range in
                        if useTable && options.batch > 0 {
                            batchedPass(range, all: all, offsets: off, table: &table, tracker: &tracker, output: &output, counts: &c)
                            return
                        }
                        var event = DecodedEvent()
                        for i in range {
                            let slice = UnsafeRawBufferPointer(rebasing: all[off[i]..<off[i + 1]])
                            if decoder.decode(slice, nowMillis: workload.nowMillis, into: &event) != nil {
                                c.failures += 1
                                continue
                            }
                            if tracker.isLate(event.eventTimeMillis, allowedLatenessMillis: allowedLateness) {
                                c.late += 1
                                continue
                            }
                            tracker.observe(event.eventTimeMillis)
                            if useTable {
                                let (index, _) = table.findOrInsert(event.entityID)
                                engine.apply(event, to: &table[index], output: &output)
                            } else {
                                engine.apply(event, to: &dictionary[event.entityID, default: engine.makeState()], output: &output)
                            }
                            c.applied += 1
                            c.sink &+= checksum(output)
                        }
                    }, evict: {
                        let watermark = tracker.watermark(allowedLatenessMillis: allowedLateness)
                        if useTable {
                            for i in table.indices { table[i].evict(olderThan: watermark) }
                        } else {
                            var index = dictionary.values.startIndex
                            while index != dictionary.values.endIndex {
                                dictionary.values[index].evict(olderThan: watermark)
                                index = dictionary.values.index(after: index)
                            }
                        }
                    })
                }
            }
            if run.measured.cpu < best.cpu {
                best = run.measured
                bestEviction = run.eviction
            }
            counts = c
            if useTable {
                let watermark = tracker.watermark(allowedLatenessMillis: allowedLateness)
                states = table.indices.map { i in
                    var s = table[i]
                    s.evict(olderThan: watermark)
                    return s
                }
            }
        }
        return (best, bestEviction, counts, states)
    }

    let tableRun = pipelineRounds(useTable: true)
    pipelineStates = tableRun.states
    let applied = tableRun.counts.applied - (options.measureStart == 0 ? 0 : Int((Double(options.measureStart) / Double(options.events) * Double(tableRun.counts.applied)).rounded()))
    report.line("applied \(tableRun.counts.applied), late \(tableRun.counts.late), decode failures \(tableRun.counts.failures), active entities \(tableRun.states.count); best of \(options.rounds) rounds; " + (options.batch > 0 ? "micro-batches of \(options.batch) events, states prefetched \(2 * options.ahead) and \(options.ahead) events ahead" : "one event at a time"))
    report.value("pipeline_batch", options.batch)
    report.value("pipeline_active_entities", tableRun.states.count)
    report.rate("decode", label: "decode alone", events: measured, timing: decodeBest)
    report.rate("pipeline", label: "decode + EntityStateTable + apply + outputs", events: measured, timing: tableRun.best)
    report.line("  of which lookup + apply + outputs ≈ \(format((tableRun.best.cpu - decodeBest.cpu) / Double(applied) * 1e9)) ns/event")
    report.value("pipeline_features_ns_per_event", (tableRun.best.cpu - decodeBest.cpu) / Double(applied) * 1e9)
    report.value("pipeline_cpu_seconds", tableRun.best.cpu)
    report.line("eviction (all states every \(evictEvery) events): \(format(tableRun.eviction.cpu * 1e3)) ms CPU in total, excluded")
    if options.dictionary {
        let dictionaryRun = pipelineRounds(useTable: false)
        report.rate("pipeline_dictionary", label: "decode + [String: EntityState] + apply + outputs", events: measured, timing: dictionaryRun.best)
        if dictionaryRun.counts.sink != tableRun.counts.sink { print("warning: dictionary and table pipelines produced different outputs") }
    }
    report.value("pipeline_checksum", Int(truncatingIfNeeded: tableRun.counts.sink &+ UInt64(decodeSink)))
}

// MARK: - state size and (de)serialization

if options.sections.contains("state") {
    report.section("entity state: serialized size and cost")
    let keys = engineStates.keys.sorted()
    let ordered = keys.map { engineStates[$0]! }
    // Evict at the final watermark first, as the worker does before writing a state.
    var maxTime = Int64.min
    for s in ordered where s.latestEventTimeMillis > maxTime { maxTime = s.latestEventTimeMillis }
    let evicted = ordered.map { s -> EntityState in
        var s = s
        s.evict(olderThan: maxTime &- allowedLateness)
        return s
    }
    StateCost(states: evicted, engine: engine).report(into: &report, key: "engine_state", label: "engine workload")
    if !pipelineStates.isEmpty {
        StateCost(states: pipelineStates, engine: engine, timed: false).report(into: &report, key: "pipeline_state", label: "decode + features workload")
    }
}

report.finish()

func format(_ x: Double) -> String {
    if x >= 100 { return String(Int(x.rounded())) }
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}
