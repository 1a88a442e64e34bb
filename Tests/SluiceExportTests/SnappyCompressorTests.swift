import Foundation
@testable import SluiceExport
import Testing

/// The Snappy compressor round-trips through an independent decoder here and
/// through pyarrow's snappy codec.
@Suite struct SnappyCompressorTests {
    struct DecodeError: Error {
        var reason: String
    }

    /// A straightforward decoder of the raw Snappy block format (test only).
    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        var position = 0
        func varint() throws -> Int {
            var result = 0
            var shift = 0
            while true {
                guard position < input.count else { throw DecodeError(reason: "truncated varint") }
                let byte = input[position]
                position += 1
                result |= Int(byte & 0x7F) << shift
                if byte < 0x80 { return result }
                shift += 7
            }
        }
        func littleEndian(_ count: Int) throws -> Int {
            guard position + count <= input.count else { throw DecodeError(reason: "truncated") }
            var value = 0
            for index in 0..<count { value |= Int(input[position + index]) << (8 * index) }
            position += count
            return value
        }
        let length = try varint()
        var output: [UInt8] = []
        output.reserveCapacity(length)
        while position < input.count {
            let tag = input[position]
            position += 1
            switch tag & 3 {
            case 0:
                var literal = Int(tag >> 2)
                if literal >= 60 { literal = try littleEndian(literal - 59) }
                literal += 1
                guard position + literal <= input.count else { throw DecodeError(reason: "literal overruns input") }
                output += input[position..<position + literal]
                position += literal
            default:
                let copyLength: Int
                let offset: Int
                switch tag & 3 {
                case 1:
                    copyLength = Int((tag >> 2) & 7) + 4
                    offset = Int(tag >> 5) << 8 | (try littleEndian(1))
                case 2:
                    copyLength = Int(tag >> 2) + 1
                    offset = try littleEndian(2)
                default:
                    copyLength = Int(tag >> 2) + 1
                    offset = try littleEndian(4)
                }
                guard offset > 0 && offset <= output.count else { throw DecodeError(reason: "bad offset \(offset)") }
                for _ in 0..<copyLength { output.append(output[output.count - offset]) }
            }
        }
        guard output.count == length else { throw DecodeError(reason: "length \(output.count) != \(length)") }
        return output
    }

    static func compress(_ input: [UInt8]) -> [UInt8] {
        let compressor = SnappyCompressor()
        var output = ByteBuffer()
        input.withUnsafeBytes { compressor.compress($0, into: &output) }
        return output.toArray()
    }

    /// Inputs that exercise literals of every length class, short and long copies, overlaps and block edges.
    static func cases() -> [[UInt8]] {
        var random = SplitMix64(state: 3)
        var cases: [[UInt8]] = [[], [7], Array("abcabcabcabcabcabcabcabc".utf8)]
        cases.append((0..<100_000).map { _ in UInt8(truncatingIfNeeded: random.next()) })  // incompressible
        cases.append(Array(repeating: 0x41, count: 200_000))  // one long run, overlapping copies
        var text: [UInt8] = []
        while text.count < 300_000 {
            text += Array("prediction topic/\(random.below(12))/\(random.below(100_000)) score=\(random.unit())\n".utf8)
        }
        cases.append(text)
        var doubles: [UInt8] = []
        for index in 0..<40_000 {
            let value = index % 3 == 0 ? 1.0 : Double(random.below(16))
            doubles += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
        }
        cases.append(doubles)
        // Literal lengths around the 60 / 256 / 65,536 boundaries between matches.
        for literal in [59, 60, 61, 255, 256, 257, 65_535, 65_536, 70_000] {
            var input = Array(repeating: UInt8(9), count: 32)
            input += (0..<literal).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            input += Array(repeating: UInt8(9), count: 32)
            cases.append(input)
        }
        return cases
    }

    @Test func roundTripsThroughIndependentDecoder() throws {
        for (index, input) in Self.cases().enumerated() {
            let compressed = Self.compress(input)
            #expect(compressed.count <= SnappyCompressor.maxCompressedLength(input.count), "case \(index)")
            let decompressed = try Self.decompress(compressed)
            #expect(decompressed == input, "case \(index) (\(input.count) bytes)")
        }
        let run = Self.compress(Array(repeating: 0x41, count: 200_000))
        #expect(run.count < 15_000, "a long run must compress, got \(run.count) bytes")
    }

    @Test(.enabled(if: PythonReference.shouldRun, PythonReference.skipMessage))
    func pyarrowSnappyCodecDecompressesOurBlocks() throws {
        try PythonReference.requirePyarrow()
        let directory = try TemporaryDirectory()
        let cases = Self.cases()
        for (index, input) in cases.enumerated() {
            try Data(input).write(to: directory.url.appendingPathComponent("case-\(index).raw"))
            try Data(Self.compress(input)).write(to: directory.url.appendingPathComponent("case-\(index).snappy"))
        }
        struct Result: Decodable {
            var equal: Bool
            var length: Int
        }
        let data = try PythonReference.runScript("snappy_check.py", [directory.url.path, String(cases.count)])
        let results = try JSONDecoder().decode([Result].self, from: data)
        #expect(results.count == cases.count)
        for (index, result) in results.enumerated() {
            #expect(result.equal, "case \(index): pyarrow decoded \(result.length) bytes that differ")
        }
    }
}
