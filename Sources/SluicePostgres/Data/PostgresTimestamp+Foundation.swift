import Foundation

extension PostgresTimestamp {
    /// The timestamp of `date`, rounded to the nearest microsecond.
    package init(_ date: Date) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        if micros >= 9.2e18 {
            self = .infinity
        } else if micros <= -9.2e18 {
            self = .negativeInfinity
        } else {
            self.init(microsecondsSinceUnixEpoch: Int64(micros))
        }
    }

    /// The `Date` of this timestamp; ±infinity map to `Date.distantFuture` / `Date.distantPast`.
    package var date: Date {
        switch self {
        case .infinity: .distantFuture
        case .negativeInfinity: .distantPast
        default: Date(timeIntervalSince1970: Double(microsecondsSinceUnixEpoch) / 1_000_000)
        }
    }
}
