/// The aggregation a feature computes over its window.
///
/// The raw values are the names used in the configuration (`aggregate: approx_distinct`).
package enum AggregateKind: String, Sendable, Hashable, CaseIterable {
    /// Number of events in the window (null field values included; takes no `of`).
    case count
    /// Sum of the non-null numeric values (0.0 when there are none).
    case sum
    /// Arithmetic mean of the non-null numeric values (null when there are none).
    case mean
    /// Smallest non-null numeric value (null when there are none).
    case min
    /// Largest non-null numeric value (null when there are none).
    case max
    /// Sample variance (divisor n − 1) of the non-null numeric values (null when fewer than two).
    case variance
    /// Sample standard deviation, the square root of `variance`.
    case stddev
    /// The non-null value of the latest event in event time (ties: the later arrival wins).
    case last
    /// Approximate number of distinct non-null values (HyperLogLog, relative standard error ≈ 3.25 %).
    case approxDistinct = "approx_distinct"
    /// Seconds between this event and the entity's previous event in event time; takes no `of` and no window.
    case timeSinceLast = "time_since_last"

    /// Whether the aggregate reads a field (`of`).
    package var needsField: Bool {
        switch self {
        case .count, .timeSinceLast: return false
        default: return true
        }
    }

    /// Whether the aggregate needs a numeric (`double` or `int`) field.
    package var needsNumericField: Bool {
        switch self {
        case .sum, .mean, .min, .max, .variance, .stddev: return true
        default: return false
        }
    }
}
