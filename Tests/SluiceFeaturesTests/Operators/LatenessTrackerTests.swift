import Testing
@testable import SluiceFeatures

@Suite struct LatenessTrackerTests {
    @Test func nothingIsLateBeforeTheFirstEvent() {
        let tracker = LatenessTracker()
        #expect(tracker.isLate(.min, allowedLatenessMillis: 0) == false)
        #expect(tracker.watermark(allowedLatenessMillis: 1_000) == .min)
    }

    @Test func eventsBeforeTheWatermarkAreLateAndTheWatermarkItselfIsNot() {
        var tracker = LatenessTracker()
        let lateness: Int64 = 5 * Millis.minute
        tracker.observe(10_000_000)
        tracker.observe(9_000_000) // older events do not move the maximum
        #expect(tracker.maxEventTimeMillis == 10_000_000)
        let watermark = tracker.watermark(allowedLatenessMillis: lateness)
        #expect(watermark == 10_000_000 - lateness)
        #expect(tracker.isLate(watermark, allowedLatenessMillis: lateness) == false)
        #expect(tracker.isLate(watermark - 1, allowedLatenessMillis: lateness))
        #expect(tracker.isLate(10_000_001, allowedLatenessMillis: lateness) == false)
    }

    @Test func restoredTrackerDecidesLikeTheOriginal() {
        var a = LatenessTracker()
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<100 { a.observe(Int64.random(in: 0...1_000_000, using: &rng)) }
        let b = LatenessTracker(maxEventTimeMillis: a.maxEventTimeMillis)
        for t in stride(from: Int64(0), through: 1_000_000, by: 997) {
            #expect(a.isLate(t, allowedLatenessMillis: 50_000) == b.isLate(t, allowedLatenessMillis: 50_000))
        }
    }

    @Test func hugeLatenessDoesNotOverflow() {
        var tracker = LatenessTracker()
        tracker.observe(-5)
        #expect(tracker.watermark(allowedLatenessMillis: .max) == .min)
        #expect(tracker.isLate(.min, allowedLatenessMillis: .max) == false)
    }
}
