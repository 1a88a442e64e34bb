import Foundation
import Testing

/// Loads fixture JSON from Fixtures/drift next to this test target.
enum FixtureSupport {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
        .appendingPathComponent("drift")

    static func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// |a − b| ≤ tol · max(|b|, tiny), treating equal infinities as equal.
    static func relativelyClose(_ a: Double, _ b: Double, _ tol: Double) -> Bool {
        if a == b { return true }
        return abs(a - b) <= tol * max(abs(b), 1e-300)
    }
}

/// SplitMix64, bit-identical to scripts/fixtures/gen_drift.py.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
}

/// A sample described by the generator's spec.
struct SampleSpec: Decodable {
    struct Segment: Decodable {
        var n: Int
        var dist: String
        var scale: Double?
        var shift: Double?
        var shift_to: Double?
        var round: Int?
        var p: Double?
    }
    var seed: UInt64
    var segments: [Segment]
    var head: [Double]?

    func generate() -> [Double] {
        var rng = SplitMix64(seed: seed)
        var out: [Double] = []
        for s in segments {
            for i in 0..<s.n {
                let base: Double
                switch s.dist {
                case "uniform": base = rng.uniform()
                case "irwin":
                    let a = rng.uniform(), b = rng.uniform(), c = rng.uniform(), d = rng.uniform()
                    base = a + b + c + d - 2.0
                case "bernoulli": base = rng.uniform() < (s.p ?? 0.5) ? 1.0 : 0.0
                default: fatalError("unknown distribution \(s.dist)")
                }
                var shift = s.shift ?? 0
                if let to = s.shift_to { shift = shift + (to - shift) * Double(i) / Double(s.n) }
                var v = shift + (s.scale ?? 1.0) * base
                if let r = s.round {
                    let q = pow(10.0, Double(r))
                    v = (v * q).rounded(.down) / q
                }
                out.append(v)
            }
        }
        return out
    }

    /// Generates and checks the stored head, so a generator mismatch fails loudly.
    func generateChecked() throws -> [Double] {
        let values = generate()
        if let head {
            try #require(Array(values.prefix(head.count)) == head, "generator disagrees with the fixture's first values")
        }
        return values
    }
}
