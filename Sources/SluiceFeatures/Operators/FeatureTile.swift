/// The partial aggregate of one tile (or of a lifetime, or of several tiles folded together).
///
/// Field meaning depends on the operator:
/// - count: `n` = events.
/// - sum, mean: `n` = non-null values, `x` = Neumaier sum, `y` = its compensation (value = x + y).
/// - min, max: `n` = non-null values, `x` = extremum.
/// - variance, stddev: `n` = non-null values, `x` = mean, `y` = M2 (sum of squared deviations), Welford/Chan.
/// - last: `n` = non-null values, `time` = event time of the kept value (kept beside the tile).
/// - approx_distinct: `n` = non-null values (the sketch is kept beside the tile).
///
/// In `EntityState.words` an accumulator takes only the words its operator needs
/// (`CompiledFeature.Op.wordCount`); `init(_:at:)` and `store(_:at:)` convert. All-zero words are the
/// empty accumulator of every operator.
struct FeatureTile: Sendable, Hashable {
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

extension FeatureTile {
    /// Loads the accumulator of `op` stored at `p`.
    @inline(__always)
    init(_ op: CompiledFeature.Op, at p: UnsafePointer<UInt64>) {
        switch op {
        case .count, .approxDistinct:
            n = Int64(bitPattern: p[0])
        case .sum, .mean, .variance, .stddev:
            n = Int64(bitPattern: p[0])
            x = Double(bitPattern: p[1])
            y = Double(bitPattern: p[2])
        case .min, .max:
            n = Int64(bitPattern: p[0])
            x = Double(bitPattern: p[1])
        case .last:
            n = Int64(bitPattern: p[0])
            time = Int64(bitPattern: p[1])
        case .value:
            time = Int64(bitPattern: p[0])
        case .timeSinceLast:
            break
        }
    }

    /// Stores the accumulator of `op` at `p` (for approx_distinct only n: the second word is the sketch's).
    @inline(__always)
    func store(_ op: CompiledFeature.Op, at p: UnsafeMutablePointer<UInt64>) {
        switch op {
        case .count, .approxDistinct:
            p[0] = UInt64(bitPattern: n)
        case .sum, .mean, .variance, .stddev:
            p[0] = UInt64(bitPattern: n)
            p[1] = x.bitPattern
            p[2] = y.bitPattern
        case .min, .max:
            p[0] = UInt64(bitPattern: n)
            p[1] = x.bitPattern
        case .last:
            p[0] = UInt64(bitPattern: n)
            p[1] = UInt64(bitPattern: time)
        case .value:
            p[0] = UInt64(bitPattern: time)
        case .timeSinceLast:
            break
        }
    }

    /// Folds `count` accumulators of `op` stored `stride` words apart from `first`, in order: the same
    /// operations as calling `merge` on each, in loops specialized per operator (refolds of long windows).
    /// `@inline(always)`: the optimizer declines `@inline(__always)` for it, `addToNewest` and
    /// `EntityState.foldIntoPrefix` (see `EventDecoder.scanConfiguredMember`); inlined, the three save
    /// about 130 instructions per event in `features-bench` (callgrind).
    @inline(always)
    mutating func mergeRecords(_ op: CompiledFeature.Op, _ first: UnsafePointer<UInt64>, count: Int, stride: Int) {
        var r = first
        switch op {
        case .count, .approxDistinct:
            for _ in 0..<count {
                n += Int64(bitPattern: r[0])
                r += stride
            }
        case .sum, .mean:
            for _ in 0..<count {
                let on = Int64(bitPattern: r[0])
                if on != 0 {
                    n += on
                    compensatedAdd(Double(bitPattern: r[1]))
                    y += Double(bitPattern: r[2])
                }
                r += stride
            }
        case .max:
            for _ in 0..<count {
                let on = Int64(bitPattern: r[0])
                if on != 0 {
                    let v = Double(bitPattern: r[1])
                    if n == 0 || v > x { x = v }
                    n += on
                }
                r += stride
            }
        case .min:
            for _ in 0..<count {
                let on = Int64(bitPattern: r[0])
                if on != 0 {
                    let v = Double(bitPattern: r[1])
                    if n == 0 || v < x { x = v }
                    n += on
                }
                r += stride
            }
        case .variance, .stddev:
            // Chan's formula, exactly as `merge`.
            for _ in 0..<count {
                let on = Int64(bitPattern: r[0])
                if on != 0 {
                    let ox = Double(bitPattern: r[1])
                    let oy = Double(bitPattern: r[2])
                    if n == 0 {
                        n = on
                        x = ox
                        y = oy
                    } else {
                        let na = Double(n)
                        let nb = Double(on)
                        let total = na + nb
                        let d = ox - x
                        x += d * (nb / total)
                        y += oy + d * d * (na * nb / total)
                        n += on
                    }
                }
                r += stride
            }
        default:
            for _ in 0..<count {
                _ = merge(op, FeatureTile(op, at: r))
                r += stride
            }
        }
    }

    /// An in-order event into the newest tile: adds `field` to the newest tile's accumulator at `newest`
    /// and returns the window's value, the prefix at `prefix` merged with that tile. Exactly
    /// `add(op, field, time:)`, `store`, then `merge` into a copy of the prefix and `output`, with one
    /// dispatch on the operator instead of one per step.
    @inline(always)
    static func addToNewest(_ op: CompiledFeature.Op, _ field: EventField, time t: Int64, newest: UnsafeMutablePointer<UInt64>, prefix: UnsafePointer<UInt64>) -> FieldValue {
        switch op {
        case .count:
            let n = Int64(bitPattern: newest[0]) + 1
            newest[0] = UInt64(bitPattern: n)
            return .int(Int64(bitPattern: prefix[0]) + n)
        case .sum, .mean:
            var acc = FeatureTile(op, at: newest)
            if field.hasNumeric {
                acc.n += 1
                acc.compensatedAdd(field.numeric)
                acc.store(op, at: newest)
            }
            var total = FeatureTile(op, at: prefix)
            if acc.n != 0 {
                total.n += acc.n
                total.compensatedAdd(acc.x)
                total.y += acc.y
            }
            if op == .sum { return .double(total.n == 0 ? 0 : total.x + total.y) }
            return total.n == 0 ? .null : .double((total.x + total.y) / Double(total.n))
        case .max:
            var n = Int64(bitPattern: newest[0])
            var x = Double(bitPattern: newest[1])
            if field.hasNumeric {
                if n == 0 || field.numeric > x { x = field.numeric }
                n += 1
                newest[0] = UInt64(bitPattern: n)
                newest[1] = x.bitPattern
            }
            var total = FeatureTile(op, at: prefix)
            if n != 0 {
                if total.n == 0 || x > total.x { total.x = x }
                total.n += n
            }
            return total.n == 0 ? .null : .double(total.x)
        case .min:
            var n = Int64(bitPattern: newest[0])
            var x = Double(bitPattern: newest[1])
            if field.hasNumeric {
                if n == 0 || field.numeric < x { x = field.numeric }
                n += 1
                newest[0] = UInt64(bitPattern: n)
                newest[1] = x.bitPattern
            }
            var total = FeatureTile(op, at: prefix)
            if n != 0 {
                if total.n == 0 || x < total.x { total.x = x }
                total.n += n
            }
            return total.n == 0 ? .null : .double(total.x)
        case .variance, .stddev:
            var acc = FeatureTile(op, at: newest)
            if field.hasNumeric {
                // `add`: Welford.
                let v = field.numeric
                acc.n += 1
                let d = v - acc.x
                acc.x += d / Double(acc.n)
                acc.y += d * (v - acc.x)
                acc.store(op, at: newest)
            }
            var total = FeatureTile(op, at: prefix)
            if acc.n != 0 {
                // `merge`: Chan's formula.
                if total.n == 0 {
                    total.n = acc.n
                    total.x = acc.x
                    total.y = acc.y
                } else {
                    let na = Double(total.n)
                    let nb = Double(acc.n)
                    let all = na + nb
                    let d = acc.x - total.x
                    total.x += d * (nb / all)
                    total.y += acc.y + d * d * (na * nb / all)
                    total.n += acc.n
                }
            }
            if total.n < 2 { return .null }
            let variance = Swift.max(0, total.y / Double(total.n - 1))
            return .double(op == .variance ? variance : variance.squareRoot())
        default:
            var acc = FeatureTile(op, at: newest)
            _ = acc.add(op, field, time: t)
            acc.store(op, at: newest)
            var total = FeatureTile(op, at: prefix)
            _ = total.merge(op, acc)
            return total.output(op, last: .null)
        }
    }
}
