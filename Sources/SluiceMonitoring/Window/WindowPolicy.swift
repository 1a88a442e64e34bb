/// How a sliding window decides which events it holds.
package enum WindowPolicy: Sendable, Equatable {
    /// The last `events` events, in `subwindows` sub-windows of `events / subwindows` events each.
    case count(events: Int, subwindows: Int)
    /// The last `seconds` of event time, in `subwindows` aligned sub-windows of `seconds / subwindows`.
    case time(seconds: Double, subwindows: Int)

    var subwindows: Int {
        switch self {
        case .count(_, let s), .time(_, let s): s
        }
    }
}
