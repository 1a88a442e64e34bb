extension FieldValue {
    /// A stable 64-bit hash of the value for distinct counting; nil for null.
    ///
    /// Each type hashes with its own seed so that `"1"`, `1` and `true` are distinct values.
    package var stableHash: UInt64? {
        switch self {
        case .string(let s): return XXHash64.hash(s, seed: 1)
        case .int(let v): return XXHash64.hash(word: UInt64(bitPattern: v), seed: 2)
        case .bool(let b): return XXHash64.hash(word: b ? 1 : 0, seed: 3)
        case .double(let d): return XXHash64.hash(word: (d == 0 ? 0.0 : d).bitPattern, seed: 4)
        case .null: return nil
        }
    }
}
