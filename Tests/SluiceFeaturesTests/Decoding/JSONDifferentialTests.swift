import Foundation
import Testing
@testable import SluiceFeatures

/// Random documents decoded by both the event decoder and Foundation's JSONSerialization (the reference).
@Suite struct JSONDifferentialTests {
    let decoder: EventDecoder
    init() throws { decoder = try DecoderTestSupport.decoder(maxNestingDepth: 512) }

    /// Builds random JSON text with random whitespace and escaping.
    struct DocumentWriter {
        var random: DemoRandomGenerator
        var text = ""

        mutating func whitespace() {
            if random.nextIndex(below: 3) == 0 {
                for _ in 0...random.nextIndex(below: 3) { text += [" ", "\t", "\n", "\r"][random.nextIndex(below: 4)] }
            }
        }

        mutating func randomString() -> String {
            let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "€", "😀", "中", "\u{7F}", "\u{FFFD}"]
            return String((0..<random.nextIndex(below: 12)).map { _ in alphabet[random.nextIndex(below: alphabet.count)] })
        }

        mutating func string(_ value: String) {
            text += "\""
            for scalar in value.unicodeScalars {
                let escapeAll = random.nextIndex(below: 4) == 0
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += random.nextIndex(below: 2) == 0 ? "\\n" : "\\u000a"
                case "\t": text += "\\t"
                case "/": text += random.nextIndex(below: 2) == 0 ? "\\/" : "/"
                default:
                    if scalar.value < 0x20 || escapeAll {
                        for unit in String(scalar).utf16 { text += "\\u" + String(unit, radix: 16).leftPadded(to: 4) }
                    } else {
                        text.unicodeScalars.append(scalar)
                    }
                }
            }
            text += "\""
        }

        mutating func junk(depth: Int) {
            switch random.nextIndex(below: depth > 4 ? 4 : 7) {
            case 0: string(randomString())
            case 1: text += String(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF))
            case 2: text += ["true", "false", "null"][random.nextIndex(below: 3)]
            case 3: text += String(Int64(bitPattern: random.next()) >> Int64(random.nextIndex(below: 63)))
            case 4, 5:
                text += "["
                for i in 0..<random.nextIndex(below: 4) {
                    if i > 0 { text += "," }
                    whitespace(); junk(depth: depth + 1); whitespace()
                }
                text += "]"
            default:
                text += "{"
                for i in 0..<random.nextIndex(below: 4) {
                    if i > 0 { text += "," }
                    whitespace(); string("k\(i)" + randomString()); whitespace(); text += ":"; whitespace(); junk(depth: depth + 1); whitespace()
                }
                text += "}"
            }
        }
    }

    @Test func randomValidDocumentsAgreeWithJSONSerialization() throws {
        var writer = DocumentWriter(random: DemoRandomGenerator(seed: 2026))
        for iteration in 0..<3_000 {
            writer.text = ""
            var members: [(String, (inout DocumentWriter) -> Void)] = []
            let entity = writer.randomString() + "x"
            let entityIsInt = writer.random.nextIndex(below: 4) == 0
            let entityInt = Int64(bitPattern: writer.random.next()) >> 8
            members.append(("user_id", { w in if entityIsInt { w.text += String(entityInt) } else { w.string(entity) } }))
            let ts = Int64(1_700_000_000_000) + Int64(writer.random.nextIndex(below: 60_000_000_000))
            members.append(("ts", { w in w.text += String(ts) }))
            let amount: Double = writer.random.nextIndex(below: 3) == 0
                ? Double(Int64(writer.random.nextIndex(below: 1 << 40)) - (1 << 39))
                : Double(bitPattern: writer.random.next() & 0x7FEF_FFFF_FFFF_FFFF) * (writer.random.nextIndex(below: 2) == 0 ? 1 : -1)
            members.append(("amount", { w in w.text += amount == amount.rounded() && abs(amount) < 1e15 ? String(Int64(amount)) : String(amount) }))
            let merchant = writer.randomString()
            members.append(("merchant", { w in w.string(merchant) }))
            if writer.random.nextIndex(below: 2) == 0 {
                let count = Int64(bitPattern: writer.random.next())
                members.append(("count", { w in w.text += String(count) }))
            }
            for k in 0..<writer.random.nextIndex(below: 5) {
                members.append(("junk\(k)", { w in w.junk(depth: 1) }))
            }
            // Shuffle member order.
            for i in stride(from: members.count - 1, to: 0, by: -1) { members.swapAt(i, writer.random.nextIndex(below: i + 1)) }
            writer.whitespace()
            writer.text += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { writer.text += "," }
                writer.whitespace(); writer.string(member.0); writer.whitespace(); writer.text += ":"; writer.whitespace()
                member.1(&writer)
                writer.whitespace()
            }
            writer.text += "}"
            let bytes = Array(writer.text.utf8)

            let reference = try #require(DecoderTestSupport.foundationObject(bytes) as? [String: Any], "iteration \(iteration): \(writer.text)")
            let event = try decoder.decode(bytes, nowMillis: DecoderTestSupport.now + 100_000_000_000).get()
            let referenceEntity = reference["user_id"] as? String ?? (reference["user_id"] as? NSNumber).map { String($0.int64Value) }
            #expect(event.entityID == referenceEntity)
            #expect(event.eventTimeMillis == (reference["ts"] as? NSNumber)?.int64Value)
            if case .double(let value) = event.values[0], let referenceAmount = (reference["amount"] as? NSNumber)?.doubleValue {
                // JSONSerialization on Linux is not always correctly rounded (it is off by a few ulps on
                // long mantissas with exponents), so it must agree to 1e-14 relative; the exact reference
                // is the written value itself (shortest round-trip text) and Double(String).
                #expect(value.bitPattern == amount.bitPattern, "\(value) vs written \(amount)")
                #expect(abs(value - referenceAmount) <= abs(referenceAmount) * 1e-14, "\(value) vs \(referenceAmount)")
            } else {
                Issue.record("amount missing in \(writer.text)")
            }
            #expect(event.values[1] == .string(reference["merchant"] as? String ?? "<absent>"))
            if let count = reference["count"] as? NSNumber {
                #expect(event.values[2] == .int(count.int64Value))
            } else {
                #expect(event.values[2] == .null)
            }

            // Every proper prefix (before the closing brace) is invalid for both.
            let cut = writer.random.nextIndex(below: bytes.count - 1) + 1
            let lastBrace = bytes.lastIndex(of: UInt8(ascii: "}")) ?? bytes.count
            let prefix = Array(bytes[0..<min(cut, lastBrace)])
            #expect(DecoderTestSupport.foundationObject(prefix) == nil)
            #expect(decoder.decode(prefix, nowMillis: DecoderTestSupport.now).decoderFailure != nil)
        }
    }

    @Test func randomMutationsNeverCrashAndAcceptOnlyWhatTheReferenceAccepts() throws {
        var generator = DemoEventGenerator()
        var random = DemoRandomGenerator(seed: 77)
        let interesting: [UInt8] = Array("\"\\{}[]:,0123456789.eE+-tfnu \t".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var accepted = 0
        var rejected: [EventDecodeError.Reason: Int] = [:]
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            generator.next(into: &bytes)
            for _ in 0...random.nextIndex(below: 3) {
                let i = random.nextIndex(below: bytes.count)
                switch random.nextIndex(below: 5) {
                case 0: bytes[i] = interesting[random.nextIndex(below: interesting.count)]
                case 1: bytes.insert(interesting[random.nextIndex(below: interesting.count)], at: i)
                case 2: bytes.removeSubrange(i..<min(bytes.count, i + 1 + random.nextIndex(below: 8)))
                case 3: bytes[i] ^= UInt8(1 << random.nextIndex(below: 8))
                default: bytes = Array(bytes[0..<i])
                }
                if bytes.isEmpty { break }
            }
            switch decoder.decode(bytes, nowMillis: DecoderTestSupport.now) {
            case .success:
                accepted += 1
                #expect(DecoderTestSupport.foundationObject(bytes) is [String: Any], "\(String(decoding: bytes, as: UTF8.self))")
            case .failure(let error):
                rejected[error.reason, default: 0] += 1
                #expect(error.reason != .late && !error.message.isEmpty)
            }
        }
        #expect(accepted > 0)
        #expect(rejected[.invalidJSON, default: 0] > 0 && rejected[.invalidUTF8, default: 0] > 0)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
