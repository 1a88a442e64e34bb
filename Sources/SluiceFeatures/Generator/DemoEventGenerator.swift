#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Deterministic demo transaction events (~150 bytes of JSON each) for demos, tests and benchmarks.
///
/// Each event looks like
/// `{"event_id":"e-000000123","user_id":"u-0000042","ts":1767225600123,"amount":42.17,"merchant":"m-0193","country":"DE","channel":"web","card_present":false}`:
/// users follow a Zipf law over `entityCount` ids, `ts` advances by `stepMillis` per event minus a
/// uniform jitter in `0...jitterMillis` (so events arrive slightly out of order), `amount` is
/// log-normal with two decimals, merchants are uniform over `merchantCount`, countries Zipf over
/// 30 codes. `channel` and `card_present` are not in the demo schema and exercise skipping.
package struct DemoEventGenerator: Sendable {
    /// Knobs of the generator.
    package struct Options: Sendable, Hashable {
        /// Seeds every random choice; equal options give byte-identical output.
        package var seed: UInt64 = 42
        /// Number of distinct users (`u-0000000`…).
        package var entityCount = 100_000
        /// Zipf exponent of user popularity.
        package var zipfExponent = 1.1
        /// Number of distinct merchants (`m-0000`…).
        package var merchantCount = 5_000
        /// Nominal time of event 0.
        package var startMillis: Int64 = 1_767_225_600_000 // 2026-01-01T00:00:00Z
        /// Nominal spacing of consecutive events.
        package var stepMillis: Int64 = 10
        /// Each event's time is its nominal time minus a uniform jitter in `0...jitterMillis`.
        package var jitterMillis: Int64 = 2_000
        /// Mean of `ln(amount)` (amounts are log-normal; e^3.5 ≈ 33).
        package var amountLogMean = 3.5
        /// Standard deviation of `ln(amount)`.
        package var amountLogSigma = 1.0
        /// From this event index on, amounts are multiplied by `driftAmountFactor` (a drift demo); nil = never.
        package var driftStartIndex: Int? = nil
        /// The factor applied to amounts from `driftStartIndex` on.
        package var driftAmountFactor = 2.0
        /// The fraction of events that are bad; bad events cycle through `DemoEventGenerator.badEventReasons`.
        package var malformedFraction = 0.0
        /// Size of the `oversized` bad events; must exceed the decoder's `maxPayloadBytes`.
        package var oversizedPayloadBytes = (1 << 20) + 1
        /// How far before its nominal time a `late` event is stamped.
        package var lateByMillis: Int64 = 86_400_000
        /// How far after its nominal time a `future_timestamp` event is stamped.
        package var futureByMillis: Int64 = 10 * 365 * 86_400_000

        /// The defaults described on each property.
        package init() {}
    }

    /// The kinds of bad events produced, in cycle order: every decoder reason plus `late` (a valid
    /// event stamped `lateByMillis` in the past, which the worker must flag).
    package static let badEventReasons: [EventDecodeError.Reason] = [
        .invalidJSON, .invalidUTF8, .notObject, .missingEntity, .missingField, .wrongType,
        .invalidNumber, .invalidTimestamp, .futureTimestamp, .late, .oversized,
    ]

    /// The schema of the demo events.
    package static let schema = EventSchema(fields: [
        .init(name: "amount", type: .double),
        .init(name: "merchant", type: .string),
        .init(name: "country", type: .string),
    ])

    /// A decoder configuration matching the demo events (`user_id`, `ts` as epoch millis or RFC 3339, `event_id`).
    package static func decoderConfiguration(maxPayloadBytes: Int = 1 << 20) -> EventDecoderConfiguration {
        EventDecoderConfiguration(
            schema: schema, entityField: "user_id", eventTimeField: "ts", timestampFormat: .auto,
            eventIDField: "event_id", maxPayloadBytes: maxPayloadBytes
        )
    }

    /// The 30 country codes, most frequent first.
    package static let countries: [String] = [
        "US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "ES", "IT", "NL", "AU", "MX", "PL", "SE",
        "CH", "BE", "AT", "IE", "DK", "NO", "FI", "PT", "CZ", "TR", "ZA", "SG", "KR", "AR", "NZ",
    ]
    private static let countryBytes: [(UInt8, UInt8)] = countries.map { s in
        let u = Array(s.utf8)
        return (u[0], u[1])
    }

    /// The options this generator was built with.
    package let options: Options
    /// Index of the next event.
    package private(set) var index = 0
    private var random: DemoRandomGenerator
    private let users: ZipfSampler
    private let countrySampler: ZipfSampler
    private var badCount = 0
    /// Where the last event's entity id (`user_id`'s value, without quotes) lies in the buffer `next` appended it
    /// to; nil when that event has none (`missingEntity`).
    package private(set) var lastEntityIDRange: Range<Int>?

    /// Creates a generator.
    package init(options: Options = Options()) {
        precondition(options.entityCount >= 1 && options.merchantCount >= 1, "entityCount and merchantCount must be positive")
        self.options = options
        random = DemoRandomGenerator(seed: options.seed)
        users = ZipfSampler(count: options.entityCount, exponent: options.zipfExponent)
        countrySampler = ZipfSampler(count: Self.countries.count, exponent: 1.2)
    }

    /// The nominal time of the next event (the latest time the generator has reached).
    package var nominalMillis: Int64 { options.startMillis + Int64(index) * options.stepMillis }

    /// Appends the next event to `buffer` (which the caller clears or slices as it likes).
    /// - Returns: nil for a valid event, otherwise the reason the event should be rejected
    ///   (`.late` for a well-formed event stamped `lateByMillis` in the past).
    @discardableResult
    package mutating func next(into buffer: inout [UInt8]) -> EventDecodeError.Reason? {
        var bad: EventDecodeError.Reason?
        if options.malformedFraction > 0, random.nextUnit() < options.malformedFraction {
            bad = Self.badEventReasons[badCount % Self.badEventReasons.count]
            badCount += 1
        }
        let i = index
        index += 1
        let userRank = users.sample(using: &random)
        let jitter = options.jitterMillis > 0 ? Int64(random.nextIndex(below: Int(options.jitterMillis) + 1)) : 0
        var ts = options.startMillis + Int64(i) * options.stepMillis - jitter
        var amount = exp(options.amountLogMean + options.amountLogSigma * random.nextGaussian())
        if let drift = options.driftStartIndex, i >= drift { amount *= options.driftAmountFactor }
        let cents = min(Int64((amount * 100).rounded()), 99_999_999_999)
        let merchant = random.nextIndex(below: options.merchantCount)
        let country = Self.countryBytes[countrySampler.sample(using: &random) - 1]
        let channel = random.nextIndex(below: 3)

        switch bad {
        case .late: ts -= options.lateByMillis
        case .futureTimestamp: ts += options.futureByMillis
        default: break
        }
        let start = buffer.count
        if bad == .notObject { buffer.append(UInt8(ascii: "[")) }
        append(&buffer, "{\"event_id\":\"e-")
        appendDigits(&buffer, UInt64(i), width: 9)
        lastEntityIDRange = nil
        if bad != .missingEntity {
            append(&buffer, "\",\"user_id\":\"")
            let idStart = buffer.count
            append(&buffer, "u-")
            appendDigits(&buffer, UInt64(userRank - 1), width: 7)
            lastEntityIDRange = idStart..<buffer.count
        }
        append(&buffer, "\",\"ts\":")
        if bad == .invalidTimestamp {
            append(&buffer, "\"2026-02-30T10:00:00Z\"")
        } else {
            appendDigits(&buffer, UInt64(max(ts, 0)), width: 1)
        }
        switch bad {
        case .missingField: break
        case .wrongType: append(&buffer, ",\"amount\":\"12.5x\"")
        case .invalidNumber: append(&buffer, ",\"amount\":1e999")
        default:
            append(&buffer, ",\"amount\":")
            appendDigits(&buffer, UInt64(cents / 100), width: 1)
            buffer.append(UInt8(ascii: "."))
            appendDigits(&buffer, UInt64(cents % 100), width: 2)
        }
        append(&buffer, ",\"merchant\":\"m-")
        appendDigits(&buffer, UInt64(merchant), width: 4)
        if bad == .invalidUTF8 { buffer.append(0xFF) }
        append(&buffer, "\",\"country\":\"")
        buffer.append(country.0)
        buffer.append(country.1)
        switch channel {
        case 0: append(&buffer, "\",\"channel\":\"web\",\"card_present\":false")
        case 1: append(&buffer, "\",\"channel\":\"app\",\"card_present\":false")
        default: append(&buffer, "\",\"channel\":\"pos\",\"card_present\":true")
        }
        if bad == .oversized {
            append(&buffer, ",\"padding\":\"")
            let padding = max(0, options.oversizedPayloadBytes - (buffer.count - start) - 2)
            buffer.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: padding))
            buffer.append(UInt8(ascii: "\""))
        }
        if bad != .invalidJSON { buffer.append(UInt8(ascii: "}")) } // truncated object
        if bad == .notObject { buffer.append(UInt8(ascii: "]")) }
        return bad
    }

    @inline(__always)
    private func append(_ buffer: inout [UInt8], _ text: StaticString) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `value` in decimal, zero-padded to at least `width` digits.
    @inline(__always)
    private func appendDigits(_ buffer: inout [UInt8], _ value: UInt64, width: Int) {
        var v = value
        var count = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { tmp in
            repeat {
                tmp[count] = UInt8(48 + v % 10)
                v /= 10
                count += 1
            } while v > 0
            while count < width { tmp[count] = 48; count += 1 }
            for k in stride(from: count - 1, through: 0, by: -1) { buffer.append(tmp[k]) }
        }
    }
}
