import SluicePostgres

/// Collects the names and value kinds of features from rows, without writing anything: what the exporter does
/// with the rest of a pass once a row did not fit its plan, so the next pass has every feature.
struct FeatureSurvey {
    private(set) var observed: [String: FeatureObservation] = [:]
    private var scratch: [UInt8] = []

    /// Notes every feature of the COPY row (features in field `featuresField`, prediction id in field 0).
    /// - Throws: ``SnapshotError`` `.invalidData` for features that are not a flat JSON object.
    mutating func record(_ row: PostgresBinaryCopyRow, featuresField: Int) throws {
        guard let json = row.field(featuresField), let predictionID = row.field(0) else { return }
        func failure(_ reason: String) -> SnapshotError {
            SnapshotError(.invalidData, "prediction \(String(decoding: predictionID, as: UTF8.self)): features are not a flat JSON object: \(reason)")
        }
        var scanner: JSONObjectScanner
        do {
            scanner = try JSONObjectScanner(json)
        } catch {
            throw failure(error.reason)
        }
        while true {
            let next: JSONObjectScanner.Member?
            do {
                next = try scanner.next()
            } catch {
                throw failure(error.reason)
            }
            guard let member = next else { return }
            let name: String
            let key = UnsafeRawBufferPointer(rebasing: json[member.keyStart..<member.keyEnd])
            if member.keyEscaped {
                scratch.removeAll(keepingCapacity: true)
                do {
                    try JSONStringDecoder.decode(key, into: &scratch)
                } catch {
                    throw failure(error.reason)
                }
                name = String(decoding: scratch, as: UTF8.self)
            } else {
                name = String(decoding: key, as: UTF8.self)
            }
            observed[name, default: FeatureObservation()].record(member.kind, predictionID: String(decoding: predictionID, as: UTF8.self))
        }
    }
}
