/// What to export: which labelled rows (event-time range, model), why, and how to lay them out.
///
/// Rows are selected by `since <= event_time < until` (either bound may be left open) and, when given, by model
/// name and version.
package struct SnapshotRequest: Sendable, Hashable {
    /// The earliest event time included, epoch milliseconds (inclusive); nil for no lower bound.
    package var sinceMillis: Int64?
    /// The end of the event-time range, epoch milliseconds (exclusive); nil for no upper bound.
    package var untilMillis: Int64?
    /// Only rows scored by this model; nil for every model.
    package var modelName: String?
    /// Only rows scored by this version of `modelName`; nil for every version.
    package var modelVersion: Int?
    /// Why the snapshot is taken.
    package var reason: SnapshotReason
    /// The drift alert that asked for it (with `reason` `.alert`).
    package var alertID: String?
    /// The share of entities marked holdout, 0…1 (see ``HoldoutSplit``); 0 leaves the `split` column out.
    package var holdoutFraction: Double
    /// Rows per Parquet row group; memory holds one row group, not the snapshot.
    package var rowGroupRows: Int
    /// The directory that receives `<snapshot_id>/`; created when missing. Relative paths are resolved against
    /// the current directory.
    package var directory: String

    /// A request with the defaults: every labelled row, holdout fraction 0.2, 65,536 rows per row group.
    package init(directory: String, reason: SnapshotReason = .manual, sinceMillis: Int64? = nil, untilMillis: Int64? = nil,
                 modelName: String? = nil, modelVersion: Int? = nil, alertID: String? = nil,
                 holdoutFraction: Double = 0.2, rowGroupRows: Int = 65_536) {
        self.directory = directory
        self.reason = reason
        self.sinceMillis = sinceMillis
        self.untilMillis = untilMillis
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.alertID = alertID
        self.holdoutFraction = holdoutFraction
        self.rowGroupRows = rowGroupRows
    }

    /// Epoch milliseconds of 0001-01-01T00:00:00Z and of the end of 9999: the times a request may name.
    static let timeRange: ClosedRange<Int64> = -62_135_596_800_000 ... 253_402_300_799_999

    /// Checks every field; the first problem found is thrown.
    /// - Throws: ``SnapshotError`` `.invalidRequest` naming the field, its value and what was expected.
    package func validate() throws(SnapshotError) {
        guard holdoutFraction.isFinite, (0...1).contains(holdoutFraction) else {
            throw SnapshotError(.invalidRequest, "holdout fraction \(holdoutFraction) is out of range; expected a number from 0 to 1 (0 disables the split)")
        }
        guard (1...(1 << 24)).contains(rowGroupRows) else {
            throw SnapshotError(.invalidRequest, "row group size \(rowGroupRows) is out of range; expected 1…16777216 rows")
        }
        guard !directory.isEmpty else {
            throw SnapshotError(.invalidRequest, "the output directory is empty; expected a path")
        }
        for (name, value) in [("since", sinceMillis), ("until", untilMillis)] {
            if let value, !Self.timeRange.contains(value) {
                throw SnapshotError(.invalidRequest, "\(name) \(value) ms is outside years 0001…9999; expected an epoch-milliseconds time in that range")
            }
        }
        if let since = sinceMillis, let until = untilMillis, since >= until {
            throw SnapshotError(.invalidRequest, "since (\(RFC3339.format(since))) is not before until (\(RFC3339.format(until))); expected since < until (until is exclusive)")
        }
        if let modelName, modelName.isEmpty {
            throw SnapshotError(.invalidRequest, "the model name is empty; expected a registered model's name or none")
        }
        if let modelVersion {
            guard modelName != nil else {
                throw SnapshotError(.invalidRequest, "model version \(modelVersion) given without a model name; a version only means something with its model")
            }
            guard (1...Int(Int32.max)).contains(modelVersion) else {
                throw SnapshotError(.invalidRequest, "model version \(modelVersion) is out of range; expected a positive version number")
            }
        }
    }

    /// The selection in words, for messages: `model 'fraud' version 3, event time from … until …`.
    package var selectionDescription: String {
        var parts: [String] = []
        if let modelName {
            parts.append("model '\(modelName)'" + (modelVersion.map { " version \($0)" } ?? ""))
        } else {
            parts.append("any model")
        }
        switch (sinceMillis, untilMillis) {
        case (nil, nil): parts.append("any event time")
        case (let since?, nil): parts.append("event time at or after \(RFC3339.format(since))")
        case (nil, let until?): parts.append("event time before \(RFC3339.format(until))")
        case (let since?, let until?): parts.append("event time from \(RFC3339.format(since)) until (before) \(RFC3339.format(until))")
        }
        return parts.joined(separator: ", ")
    }
}
