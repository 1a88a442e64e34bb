/// Tests a batch of rows against a reference profile exactly as the live monitor tests a window:
/// every row goes into a count ``SlidingWindow`` of exactly as many events, with one sub-window,
/// and the window is evaluated once (`sluice drift compare`).
///
/// The results are therefore those of the window path (binned against the profile's bins, see
/// ``BinnedDriftTests``), not of ``ExactDrift``: what a user sees offline is what the monitor would
/// report for the same rows.
package enum DriftComparison {
    /// Evaluates `current` against `reference`.
    /// - Parameters:
    ///   - reference: The profile to test against.
    ///   - current: One column per profile feature, matched by name (other columns are ignored), all of the
    ///     same length (at least one row), of the feature's kind (categories as text).
    ///   - configuration: Overrides and the dataset share; checked against the profile first.
    /// - Returns: The window's evaluation; its `events` is the number of rows.
    /// - Throws: ``WindowConfigurationError`` when a feature has no column, the kinds disagree, the columns
    ///   differ in length or there are no rows; ``DriftConfigurationError`` from
    ///   ``DriftConfiguration/validate(profile:)``.
    package static func evaluate(reference: ReferenceProfile, current: [(name: String, values: FeatureColumn)],
                                 configuration: DriftConfiguration = DriftConfiguration()) throws -> WindowEvaluation {
        try configuration.validate(profile: reference)
        var byName: [String: FeatureColumn] = [:]
        for column in current where byName[column.name] == nil { byName[column.name] = column.values }
        var columns: [FeatureColumn] = []
        for feature in reference.features {
            guard let column = byName[feature.name] else {
                throw WindowConfigurationError(message: "the current data has no column '\(feature.name)'; expected every reference feature: \(reference.features.map(\.name).joined(separator: ", "))")
            }
            switch (feature.kind, column) {
            case (.numerical, .numerical), (.categorical, .categorical):
                break
            case (.numerical, .categorical):
                throw WindowConfigurationError(message: "column '\(feature.name)' is numerical in the reference but holds text in the current data; expected numbers")
            case (.categorical, .numerical):
                throw WindowConfigurationError(message: "column '\(feature.name)' is categorical in the reference but numerical in the current data; expected categories as text")
            }
            columns.append(column)
        }
        let rows = columns.first.map(Self.count) ?? 0
        if let odd = zip(reference.features, columns).first(where: { Self.count($0.1) != rows }) {
            throw WindowConfigurationError(message: "column '\(odd.0.name)' has \(Self.count(odd.1)) values, expected \(rows) like the others")
        }
        guard rows > 0 else {
            throw WindowConfigurationError(message: "the current data has no rows; expected at least one")
        }
        var window = try SlidingWindow(profile: reference, policy: .count(events: rows, subwindows: 1))
        var values = [Double](repeating: .nan, count: columns.count)
        for row in 0..<rows {
            for (f, column) in columns.enumerated() {
                switch column {
                case .numerical(let numbers):
                    values[f] = numbers[row]
                case .categorical(let strings):
                    values[f] = window.categoryCode(feature: f, strings[row])
                }
            }
            window.add(values)
        }
        return window.evaluate(configuration: configuration)
    }

    private static func count(_ column: FeatureColumn) -> Int {
        switch column {
        case .numerical(let values): values.count
        case .categorical(let values): values.count
        }
    }
}
