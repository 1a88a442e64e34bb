/// The feature columns of a snapshot: every feature name seen in the selected rows, sorted by name (UTF-8
/// byte order), each typed from its values.
///
/// Built from observations (a sample of the rows, then what the full pass saw); a feature with numbers in some
/// rows and strings or booleans in others has no single type and is refused.
struct FeaturePlan: Sendable {
    /// Feature names, sorted by their UTF-8 bytes.
    let names: [String]
    /// Each feature's column type.
    let types: [SnapshotFeatureType]
    /// True for a feature seen only with null values so far: typed double until a value says otherwise.
    let provisional: [Bool]
    /// What was observed per feature.
    let observations: [FeatureObservation]

    /// - Throws: ``SnapshotError`` `.mixedFeatureTypes` for a feature with values of two kinds,
    ///   `.invalidData` for a feature with object or array values.
    init(_ observed: [String: FeatureObservation]) throws(SnapshotError) {
        let names = observed.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var types: [SnapshotFeatureType] = []
        var provisional: [Bool] = []
        var observations: [FeatureObservation] = []
        for name in names {
            let observation = observed[name] ?? FeatureObservation()
            for kind in [FeatureValueKind.object, .array] {
                if let example = observation.example(kind) {
                    throw SnapshotError(.invalidData, "feature '\(name)' has \(kind.jsonName) values (e.g. prediction \(example)); a snapshot column holds numbers, strings or booleans")
                }
            }
            let valued: [(FeatureValueKind, SnapshotFeatureType)] = [(.number, .double), (.string, .string), (.boolean, .bool)]
            let seen = valued.filter { observation.has($0.0) }
            if seen.count > 1 {
                let list = seen.map { "\($0.0.jsonName) values (e.g. prediction \(observation.example($0.0) ?? "?"))" }
                throw SnapshotError(.mixedFeatureTypes, "feature '\(name)' has " + list.joined(separator: " and ")
                    + " in the selected rows; a snapshot column holds one type: fix the feature's values or narrow the selection (since/until, model)")
            }
            types.append(seen.first?.1 ?? .double)
            provisional.append(seen.isEmpty)
            observations.append(observation)
        }
        self.names = names
        self.types = types
        self.provisional = provisional
        self.observations = observations
    }

    /// The observations by name, to merge with what a pass found.
    var observedByName: [String: FeatureObservation] {
        Dictionary(uniqueKeysWithValues: zip(names, observations))
    }
}
