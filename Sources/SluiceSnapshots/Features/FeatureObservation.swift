/// What the rows seen so far say about one feature: the kinds of its values, with a prediction id showing each.
struct FeatureObservation: Sendable {
    /// One example prediction id per kind seen (indexed by `FeatureValueKind.rawValue`).
    private(set) var examples: [String?] = Array(repeating: nil, count: FeatureValueKind.allCases.count)

    /// Notes a value of `kind` in the row of `predictionID` (the first example of each kind is kept).
    mutating func record(_ kind: FeatureValueKind, predictionID: @autoclosure () -> String) {
        if examples[Int(kind.rawValue)] == nil { examples[Int(kind.rawValue)] = predictionID() }
    }

    /// Merges what another pass saw.
    mutating func merge(_ other: FeatureObservation) {
        for index in examples.indices where examples[index] == nil { examples[index] = other.examples[index] }
    }

    /// True when a value of `kind` was seen.
    func has(_ kind: FeatureValueKind) -> Bool { examples[Int(kind.rawValue)] != nil }

    /// The example prediction id of `kind`, if one was seen.
    func example(_ kind: FeatureValueKind) -> String? { examples[Int(kind.rawValue)] }
}
