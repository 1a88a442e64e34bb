import Foundation
import Testing
@testable import SluiceFeatures

/// The demo generator: determinism, event shape, bad events, drift and the Zipf law.
@Suite struct DemoEventGeneratorTests {
    func events(_ options: DemoEventGenerator.Options, count: Int) -> [([UInt8], EventDecodeError.Reason?)] {
        var generator = DemoEventGenerator(options: options)
        return (0..<count).map { _ in
            var buffer: [UInt8] = []
            let bad = generator.next(into: &buffer)
            return (buffer, bad)
        }
    }

    @Test func sameSeedSameBytesOtherSeedOtherBytes() {
        var a = DemoEventGenerator.Options()
        a.malformedFraction = 0.05
        let first = events(a, count: 2_000)
        #expect(first.map(\.0) == events(a, count: 2_000).map(\.0))
        a.seed = 43
        #expect(first.map(\.0) != events(a, count: 2_000).map(\.0))
    }

    @Test func validEventsAreAbout150BytesAndDecodeLikeFoundationReadsThem() throws {
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration())
        let options = DemoEventGenerator.Options()
        let generated = events(options, count: 5_000)
        let mean = Double(generated.map(\.0.count).reduce(0, +)) / Double(generated.count)
        #expect(mean > 130 && mean < 170, "mean size \(mean)")
        var outOfOrder = 0
        var previous = Int64.min
        for (index, (bytes, bad)) in generated.enumerated() {
            #expect(bad == nil)
            let event = try decoder.decode(bytes, nowMillis: options.startMillis + 1_000_000).get()
            let reference = try #require(DecoderTestSupport.foundationObject(bytes) as? [String: Any])
            #expect(event.entityID == reference["user_id"] as? String)
            #expect(event.eventID == reference["event_id"] as? String)
            #expect(event.eventTimeMillis == (reference["ts"] as? NSNumber)?.int64Value)
            #expect(event.values[0] == .double((reference["amount"] as? NSNumber)?.doubleValue ?? .nan))
            #expect(event.values[1] == .string(reference["merchant"] as? String ?? ""))
            #expect(DemoEventGenerator.countries.contains(reference["country"] as? String ?? ""))
            let nominal = options.startMillis + Int64(index) * options.stepMillis
            #expect(event.eventTimeMillis <= nominal && event.eventTimeMillis >= nominal - options.jitterMillis)
            if event.eventTimeMillis < previous { outOfOrder += 1 }
            previous = event.eventTimeMillis
        }
        #expect(outOfOrder > 100, "jitter makes some events arrive out of order")
    }

    @Test func badEventsCycleThroughEveryReasonAndDecodeToIt() throws {
        var options = DemoEventGenerator.Options()
        options.malformedFraction = 0.3
        options.oversizedPayloadBytes = 600
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 512))
        var seen: Set<EventDecodeError.Reason> = []
        var generator = DemoEventGenerator(options: options)
        for _ in 0..<2_000 {
            var buffer: [UInt8] = []
            let now = generator.nominalMillis
            let intended = generator.next(into: &buffer)
            let result = decoder.decode(buffer, nowMillis: now)
            switch intended {
            case nil:
                #expect(result.decoderSuccess != nil)
            case .late?:
                let event = try result.get()
                #expect(event.eventTimeMillis < now - options.lateByMillis + 1)
                seen.insert(.late)
            case let reason?:
                #expect(result.decoderFailure?.reason == reason, "\(String(decoding: buffer.prefix(200), as: UTF8.self))")
                seen.insert(reason)
            }
        }
        #expect(seen == Set(DemoEventGenerator.badEventReasons))
        #expect(Set(DemoEventGenerator.badEventReasons) == Set(EventDecodeError.Reason.allCases))
    }

    /// The entity id's place in the buffer (the load producer's message key) is the id the worker decodes, also
    /// when the buffer already held other events; an event without one has none.
    @Test func theEntityIDRangeHoldsTheDecodedEntityID() throws {
        var options = DemoEventGenerator.Options()
        options.malformedFraction = 0.3
        options.oversizedPayloadBytes = 600
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 512))
        var generator = DemoEventGenerator(options: options)
        var buffer: [UInt8] = []
        var checked = 0
        for _ in 0..<2_000 {
            let start = buffer.count
            let now = generator.nominalMillis
            let intended = generator.next(into: &buffer)
            let range = generator.lastEntityIDRange
            #expect((range == nil) == (intended == .missingEntity))
            if let range { #expect(range.lowerBound > start && range.upperBound < buffer.count) }
            if case .success(let event) = decoder.decode(Array(buffer[start...]), nowMillis: now) {
                let id = try #require(range)
                #expect(String(decoding: buffer[id], as: UTF8.self) == event.entityID)
                checked += 1
            }
        }
        #expect(checked > 1_000)
    }

    @Test func driftMultipliesAmountsFromTheGivenIndex() throws {
        var options = DemoEventGenerator.Options()
        options.driftStartIndex = 10_000
        options.driftAmountFactor = 3
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration())
        var logs: [[Double]] = [[], []]
        for (index, (bytes, _)) in events(options, count: 20_000).enumerated() {
            let amount = try decoder.decode(bytes, nowMillis: .max / 2).get().values[0].numeric ?? 0
            logs[index < 10_000 ? 0 : 1].append(log(max(amount, 0.01)))
        }
        let means = logs.map { $0.reduce(0, +) / Double($0.count) }
        // ln(3) ≈ 1.0986; the standard error of each mean is sigma/sqrt(10000) = 0.01.
        #expect(abs((means[1] - means[0]) - log(3.0)) < 0.06, "\(means)")
        #expect(abs(means[0] - options.amountLogMean) < 0.06, "\(means)")
    }

    @Test func zipfSamplerMatchesTheLawWithinFiveSigma() {
        let n = 1_000
        let s = 1.1
        let sampler = ZipfSampler(count: n, exponent: s)
        let harmonic = (1...n).reduce(0.0) { $0 + 1 / pow(Double($1), s) }
        var random = DemoRandomGenerator(seed: 1)
        let draws = 200_000
        var counts = [Int](repeating: 0, count: n + 1)
        for _ in 0..<draws { counts[sampler.sample(using: &random)] += 1 }
        #expect(counts[0] == 0)
        for rank in [1, 2, 3, 5, 10, 50, 100, 500, 1000] {
            let p = 1 / pow(Double(rank), s) / harmonic
            #expect(abs(sampler.probability(ofRank: rank) - p) < 1e-12)
            let expected = Double(draws) * p
            let sigma = (Double(draws) * p * (1 - p)).squareRoot()
            #expect(abs(Double(counts[rank]) - expected) < 5 * sigma + 1, "rank \(rank): \(counts[rank]) vs \(expected)")
        }
        // Chi-square over 20 log-spaced buckets stays far below the 0.1% critical value (~43.8 for 19 dof).
        var edges = [1]
        while edges.last! < n { edges.append(min(n, max(edges.last! + 1, Int(Double(edges.last!) * 1.45)))) }
        var chi = 0.0
        for b in 0..<(edges.count - 1) {
            let ranks = edges[b]..<(b == edges.count - 2 ? n + 1 : edges[b + 1])
            let expected = Double(draws) * ranks.reduce(0.0) { $0 + 1 / pow(Double($1), s) } / harmonic
            let observed = Double(ranks.reduce(0) { $0 + counts[$1] })
            chi += (observed - expected) * (observed - expected) / expected
        }
        #expect(chi < 3 * Double(edges.count), "chi-square \(chi) over \(edges.count - 1) buckets")
    }

    @Test func generatedEntitiesFollowTheConfiguredZipfLaw() throws {
        var options = DemoEventGenerator.Options()
        options.entityCount = 100
        options.zipfExponent = 1.0
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration())
        var top = 0
        let total = 20_000
        for (bytes, _) in events(options, count: total) where try decoder.decode(bytes, nowMillis: .max / 2).get().entityID == "u-0000000" {
            top += 1
        }
        let p = 1 / (1...100).reduce(0.0) { $0 + 1 / Double($1) }
        let sigma = (Double(total) * p * (1 - p)).squareRoot()
        #expect(abs(Double(top) - Double(total) * p) < 5 * sigma)
    }
}
