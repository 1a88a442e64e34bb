/// Counts and ranges gathered while rows are written.
struct SnapshotStats: Sendable {
    /// Whether every row seen so far had the same value, and which.
    enum Distinct<Value: Equatable & Sendable>: Sendable {
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

        /// What two sets of rows make together.
        func merged(with other: Distinct) -> Distinct {
            switch (self, other) {
            case (.none, _): other
            case (_, .none): self
            case (.one(let a), .one(let b)) where a == b: self
            default: .many
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

    /// The statistics of both sets of rows.
    func merged(with other: SnapshotStats) -> SnapshotStats {
        var result = SnapshotStats()
        result.rows = rows + other.rows
        result.holdoutRows = holdoutRows + other.holdoutRows
        result.minEventMillis = min(minEventMillis, other.minEventMillis)
        result.maxEventMillis = max(maxEventMillis, other.maxEventMillis)
        result.modelNames = modelNames.merged(with: other.modelNames)
        result.modelVersions = modelVersions.merged(with: other.modelVersions)
        return result
    }

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
