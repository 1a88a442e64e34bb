/// Counts and ranges gathered while rows are written.
struct SnapshotStats {
    /// Whether every row seen so far had the same value, and which.
    enum Distinct<Value: Equatable> {
        case none
        case one(Value)
        case many

        mutating func note(_ value: Value) {
            switch self {
            case .none: self = .one(value)
            case .one(let seen) where seen != value: self = .many
            default: break
            }
        }

        var single: Value? {
            if case .one(let value) = self { return value }
            return nil
        }
    }

    var rows: Int64 = 0
    var holdoutRows: Int64 = 0
    var minEventMillis: Int64 = .max
    var maxEventMillis: Int64 = .min
    /// Model names (UTF-8) of the rows; `nil` stands for a row without a model.
    var modelNames = Distinct<[UInt8]?>.none
    var modelVersions = Distinct<Int64?>.none

    /// The one model every row was scored by, if there is one.
    var singleModelName: String? {
        guard case .one(let name?) = modelNames else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// The one model version of every row, if there is one.
    var singleModelVersion: Int? {
        guard case .one(let version?) = modelVersions else { return nil }
        return Int(version)
    }
}
