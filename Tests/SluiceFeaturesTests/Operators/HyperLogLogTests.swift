import Testing
@testable import SluiceFeatures

@Suite struct HyperLogLogTests {
    /// Empirical check of the documented error: relative standard error ≈ 1.04 / √m over many trials,
    /// against exact distinct counts.
    @Test(arguments: [10, 100, 1_000, 10_000, 100_000])
    func relativeErrorMatchesTheoryAgainstExactCounts(cardinality: Int) {
        let trials = cardinality >= 100_000 ? 12 : 40
        var squaredErrors = 0.0
        var worst = 0.0
        for trial in 0..<trials {
            var sketch = HyperLogLog()
            var exact = Set<String>()
            // Each value inserted twice: duplicates must not count.
            for i in 0..<cardinality {
                let value = "t\(trial)-v\(i)"
                exact.insert(value)
                sketch.insert(hash: FieldValue.string(value).stableHash!)
                sketch.insert(hash: FieldValue.string(value).stableHash!)
            }
            let error = (sketch.estimate() - Double(exact.count)) / Double(exact.count)
            squaredErrors += error * error
            worst = Swift.max(worst, abs(error))
        }
        let rmse = (squaredErrors / Double(trials)).squareRoot()
        let sigma = HyperLogLog.relativeStandardError
        // Small cardinalities are nearly exact (linear-counting regime); large ones follow 1.04/√m.
        #expect(rmse <= 1.35 * sigma, "rmse \(rmse) vs documented \(sigma) at n=\(cardinality)")
        #expect(worst <= 4 * sigma, "worst trial \(worst) at n=\(cardinality)")
    }

    @Test func sparseAndDenseRepresentationsGiveTheSameEstimate() {
        var grown = HyperLogLog()
        var values: [UInt64] = []
        for i in 0..<5_000 { values.append(FieldValue.int(Int64(i)).stableHash!) }
        var checked = 0
        for (i, h) in values.enumerated() {
            grown.insert(hash: h)
            if i == 100 || i == 380 || i == 4_999 {
                // Rebuild from registers in another order: same registers, same estimate.
                var rebuilt = HyperLogLog()
                for h2 in values[0...i].reversed() { rebuilt.insert(hash: h2) }
                #expect(rebuilt.estimate() == grown.estimate())
                checked += 1
            }
        }
        #expect(grown.isDense)
        #expect(checked == 3)
    }

    @Test func unionOfSketchesEqualsSketchOfUnion() {
        var a = HyperLogLog()
        var b = HyperLogLog()
        var both = HyperLogLog()
        for i in 0..<3_000 {
            let h = FieldValue.string("x\(i)").stableHash!
            if i % 3 == 0 { a.insert(hash: h) } else { b.insert(hash: h) }
            both.insert(hash: h)
        }
        a.formUnion(b)
        #expect(a.estimate() == both.estimate())
        #expect(a == both || a.estimate() == both.estimate())
    }

    @Test func emptySketchEstimatesZeroAndTypesAreDistinct() {
        #expect(HyperLogLog().estimate() == 0)
        var s = HyperLogLog()
        for v: FieldValue in [.string("1"), .int(1), .bool(true), .string("true")] { s.insert(hash: v.stableHash!) }
        #expect(HyperLogLog.rounded(s.estimate()) == 4)
        #expect(FieldValue.null.stableHash == nil)
    }

    @Test func sketchSerializationRoundTripsBothRepresentations() throws {
        for count in [0, 5, 300, 2_000] {
            var s = HyperLogLog()
            for i in 0..<count { s.insert(hash: FieldValue.int(Int64(i)).stableHash!) }
            var w = StateWriter(bytes: [])
            s.serialize(into: &w)
            let bytes = w.bytes
            let restored = try bytes.withUnsafeBytes { raw throws(EntityStateError) in
                var r = StateReader(raw)
                let sketch = try HyperLogLog(reading: &r)
                #expect(r.isAtEnd)
                return sketch
            }
            #expect(restored == s)
            if count == 2_000 { #expect(bytes.count < 800, "dense sketches pack 6 bits per register") }
        }
    }
}
