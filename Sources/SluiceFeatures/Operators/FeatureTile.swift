/// The partial aggregate of one tile (or of a lifetime, or of several tiles folded together).
///
/// Field meaning depends on the operator:
/// - count: `n` = events.
/// - sum, mean: `n` = non-null values, `x` = Neumaier sum, `y` = its compensation (value = x + y).
/// - min, max: `n` = non-null values, `x` = extremum.
/// - variance, stddev: `n` = non-null values, `x` = mean, `y` = M2 (sum of squared deviations), Welford/Chan.
/// - last: `n` = non-null values, `time` = event time of the kept value (kept beside the tile).
/// - approx_distinct: `n` = non-null values (the sketch is kept beside the tile).
struct FeatureTile: Sendable, Hashable {
    var index: Int64 = 0
    var n: Int64 = 0
    var x: Double = 0
    var y: Double = 0
    var time: Int64 = .min

    /// Neumaier's compensated addition of `v` to (x, y).
    @inline(__always)
    mutating func compensatedAdd(_ v: Double) {
        let t = x + v
        if abs(x) >= abs(v) { y += (x - t) + v } else { y += (v - t) + x }
        x = t
    }

    /// Adds one event's value. Returns true when, for `last`, the new value replaces the kept one.
    @inline(__always)
    mutating func add(_ op: CompiledFeature.Op, _ value: FieldValue, time t: Int64) -> Bool {
        switch op {
        case .count:
            n += 1
        case .sum, .mean:
            guard let v = value.numeric else { return false }
            n += 1
            compensatedAdd(v)
        case .min:
            guard let v = value.numeric else { return false }
            if n == 0 || v < x { x = v }
            n += 1
        case .max:
            guard let v = value.numeric else { return false }
            if n == 0 || v > x { x = v }
            n += 1
        case .variance, .stddev:
            guard let v = value.numeric else { return false }
            n += 1
            let d = v - x
            x += d / Double(n)
            y += d * (v - x)
        case .last:
            if case .null = value { return false }
            n += 1
            if n == 1 || t >= time {
                time = t
                return true
            }
        case .approxDistinct:
            if case .null = value { return false }
            n += 1
        case .value, .timeSinceLast:
            break
        }
        return false
    }

    /// Adds one event's pre-classified field; same arithmetic as `add(_:_:time:)`.
    @inline(__always)
    mutating func add(_ op: CompiledFeature.Op, _ field: EventField, time t: Int64) -> Bool {
        switch op {
        case .count:
            n += 1
        case .sum, .mean:
            guard field.hasNumeric else { return false }
            n += 1
            compensatedAdd(field.numeric)
        case .min:
            guard field.hasNumeric else { return false }
            let v = field.numeric
            if n == 0 || v < x { x = v }
            n += 1
        case .max:
            guard field.hasNumeric else { return false }
            let v = field.numeric
            if n == 0 || v > x { x = v }
            n += 1
        case .variance, .stddev:
            guard field.hasNumeric else { return false }
            let v = field.numeric
            n += 1
            let d = v - x
            x += d / Double(n)
            y += d * (v - x)
        case .last:
            if field.isNull { return false }
            n += 1
            if n == 1 || t >= time {
                time = t
                return true
            }
        case .approxDistinct:
            if field.isNull { return false }
            n += 1
        case .value, .timeSinceLast:
            break
        }
        return false
    }

    /// Folds a later tile `o` into this accumulator. Returns true when, for `last`, `o`'s value wins.
    @inline(__always)
    mutating func merge(_ op: CompiledFeature.Op, _ o: FeatureTile) -> Bool {
        if o.n == 0 { return false }
        switch op {
        case .count, .approxDistinct:
            n += o.n
        case .sum, .mean:
            n += o.n
            compensatedAdd(o.x)
            y += o.y
        case .min:
            if n == 0 || o.x < x { x = o.x }
            n += o.n
        case .max:
            if n == 0 || o.x > x { x = o.x }
            n += o.n
        case .variance, .stddev:
            if n == 0 {
                n = o.n
                x = o.x
                y = o.y
            } else {
                let na = Double(n)
                let nb = Double(o.n)
                let total = na + nb
                let d = o.x - x
                x += d * (nb / total)
                y += o.y + d * d * (na * nb / total)
                n += o.n
            }
        case .last:
            let wins = n == 0 || o.time >= time
            n += o.n
            if wins { time = o.time }
            return wins
        case .value, .timeSinceLast:
            break
        }
        return false
    }

    /// The feature value of this accumulator (not for approx_distinct, value, time_since_last).
    @inline(__always)
    func output(_ op: CompiledFeature.Op, last: FieldValue) -> FieldValue {
        switch op {
        case .count: return .int(n)
        case .sum: return .double(n == 0 ? 0 : x + y)
        case .mean: return n == 0 ? .null : .double((x + y) / Double(n))
        case .min, .max: return n == 0 ? .null : .double(x)
        case .variance: return n < 2 ? .null : .double(Swift.max(0, y / Double(n - 1)))
        case .stddev: return n < 2 ? .null : .double(Swift.max(0, y / Double(n - 1)).squareRoot())
        case .last: return n == 0 ? .null : last
        case .approxDistinct, .value, .timeSinceLast: return .null
        }
    }
}
