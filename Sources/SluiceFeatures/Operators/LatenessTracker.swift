/// Tracks the maximum event time seen on one partition and decides which events are too late.
///
/// An event is late when its time is strictly before the watermark, `maxEventTime − allowedLateness`.
/// Persist `maxEventTimeMillis` with the partition's offsets so a restored worker makes the same decisions.
package struct LatenessTracker: Sendable, Hashable {
    /// The largest event time observed so far; `Int64.min` before the first event.
    package private(set) var maxEventTimeMillis: Int64

    /// Creates a tracker, optionally restored from a persisted maximum.
    package init(maxEventTimeMillis: Int64 = .min) {
        self.maxEventTimeMillis = maxEventTimeMillis
    }

    /// Records an accepted event's time.
    package mutating func observe(_ eventTimeMillis: Int64) {
        if eventTimeMillis > maxEventTimeMillis { maxEventTimeMillis = eventTimeMillis }
    }

    /// The watermark: events older than this are late. `Int64.min` before the first event.
    package func watermark(allowedLatenessMillis: Int64) -> Int64 {
        if maxEventTimeMillis == .min { return .min }
        let (w, overflow) = maxEventTimeMillis.subtractingReportingOverflow(allowedLatenessMillis)
        return overflow ? .min : w
    }

    /// Whether an event at `eventTimeMillis` is beyond the allowed lateness (strictly before the watermark).
    package func isLate(_ eventTimeMillis: Int64, allowedLatenessMillis: Int64) -> Bool {
        eventTimeMillis < watermark(allowedLatenessMillis: allowedLatenessMillis)
    }
}
