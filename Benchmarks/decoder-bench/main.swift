// Decoder and demo-generator throughput on one core.
// Run: swift build -c release && .build/release/decoder-bench [events] [decode]
// (`decode` skips the generator measurement, e.g. for `valgrind --tool=callgrind` instruction counts.)
import SluiceFeatures

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of this thread: on a shared machine, wall time also counts time spent waiting for a core.
func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let eventCount = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let rounds = 5
let decodeOnly = CommandLine.arguments.count > 2 && CommandLine.arguments[2] == "decode"

// Generator throughput (best of `rounds`), reusing one buffer.
var generatorBest = Double.infinity
for round in 0..<(decodeOnly ? 0 : rounds) {
    var generator = DemoEventGenerator(options: { var o = DemoEventGenerator.Options(); o.seed = UInt64(round); return o }())
    var buffer: [UInt8] = []
    buffer.reserveCapacity(256)
    var checksum = 0
    let t0 = nowSeconds()
    for _ in 0..<eventCount {
        buffer.removeAll(keepingCapacity: true)
        generator.next(into: &buffer)
        checksum &+= buffer.count
    }
    generatorBest = min(generatorBest, nowSeconds() - t0)
    if checksum == 0 { print("impossible") }
}

// Pre-generate all events into one big buffer.
var generator = DemoEventGenerator()
var payloads: [UInt8] = []
payloads.reserveCapacity(eventCount * 160)
var offsets: [Int] = [0]
offsets.reserveCapacity(eventCount + 1)
for _ in 0..<eventCount {
    generator.next(into: &payloads)
    offsets.append(payloads.count)
}
let meanBytes = Double(payloads.count) / Double(eventCount)

let decoder: EventDecoder
do {
    decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration())
} catch {
    print("bad configuration: \(error)")
    exit(1)
}
let now = generator.nominalMillis
var decodeBest = Double.infinity
var failures = 0
var amountSum = 0.0
for _ in 0..<rounds {
    var event = DecodedEvent()
    failures = 0
    amountSum = 0
    let t0 = nowSeconds()
    payloads.withUnsafeBytes { all in
        offsets.withUnsafeBufferPointer { off in
            for i in 0..<eventCount {
                let slice = UnsafeRawBufferPointer(rebasing: all[off[i]..<off[i + 1]])
                if decoder.decode(slice, nowMillis: now, into: &event) != nil {
                    failures += 1
                } else if case .double(let a) = event.values[0] {
                    amountSum += a
                }
            }
        }
    }
    decodeBest = min(decodeBest, nowSeconds() - t0)
}

func format(_ x: Double) -> String {
    let scaled = (x * 100).rounded() / 100
    return "\(scaled)"
}
print("events: \(eventCount), mean size \(format(meanBytes)) bytes, best of \(rounds) rounds, thread CPU time")
print("decode:    \(format(Double(eventCount) / decodeBest / 1e6)) M events/s, \(format(decodeBest / Double(eventCount) * 1e9)) ns/event, \(format(Double(payloads.count) / decodeBest / 1e6)) MB/s (failures \(failures), amount checksum \(format(amountSum)))")
print("generate:  \(format(Double(eventCount) / generatorBest / 1e6)) M events/s, \(format(generatorBest / Double(eventCount) * 1e9)) ns/event")
