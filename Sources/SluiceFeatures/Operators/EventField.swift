/// One event field pre-classified once per event, so per-feature accumulation reads plain values instead
/// of switching over (and retaining) the `FieldValue`.
struct EventField: Sendable {
    /// The value as a Double when it is numeric (`FieldValue.numeric`), else 0.
    var numeric: Double
    /// Whether `FieldValue.numeric` is non-nil.
    var hasNumeric: Bool
    /// Whether the value is `.null` (or the field is absent).
    var isNull: Bool

    /// An absent or null field (computed, not a `static let`: that costs a `swift_once` check per use).
    @inline(__always)
    static var null: EventField { EventField(numeric: 0, hasNumeric: false, isNull: true) }

    @inline(__always)
    init(numeric: Double, hasNumeric: Bool, isNull: Bool) {
        self.numeric = numeric
        self.hasNumeric = hasNumeric
        self.isNull = isNull
    }

    @inline(__always)
    init(_ value: FieldValue) {
        switch value {
        case .double(let d): self.init(numeric: d, hasNumeric: true, isNull: false)
        case .int(let i): self.init(numeric: Double(i), hasNumeric: true, isNull: false)
        case .null: self = .null
        default: self.init(numeric: 0, hasNumeric: false, isNull: false)
        }
    }
}

extension UnsafeMutableBufferPointer where Element == FieldValue {
    /// Overwrites element `i` with `value`. Outputs are mostly numbers: when the old value holds no
    /// string, nothing needs releasing and the value is written without the outlined destroy a plain
    /// assignment calls.
    @inline(__always)
    func put(_ i: Int, _ value: FieldValue) {
        let p = baseAddress! + i
        if case .string = p.pointee {
            p.pointee = value
        } else {
            p.initialize(to: value)
        }
    }
}
