/// A row of the feature store's `snapshots` table (migration 4): one exported labelled snapshot.
///
/// The files live in `directory` (by convention `<snapshots.directory>/<snapshot_id>/`); `parquetFile`, `csvFile`
/// and `manifestFile` are absolute paths or paths relative to `directory` (see ``resolve(_:directory:)``).
package struct SnapshotRecord: Sendable, Equatable {
    /// The snapshot's id.
    package var snapshotID: String
    /// When it was exported (milliseconds since the Unix epoch).
    package var createdAtMillis: Int64
    /// Why: `manual`, `alert`, `schedule` or `api`.
    package var reason: String
    /// The model whose predictions it holds, when the export was for one model.
    package var modelName: String?
    /// That model's version, when known.
    package var modelVersion: Int?
    /// Rows in the snapshot.
    package var rows: Int64
    /// Rows marked `split = holdout`.
    package var holdoutRows: Int64
    /// The directory the files are in.
    package var directory: String
    /// The CSV file, absolute or relative to `directory`.
    package var csvFile: String

    /// Creates a record.
    package init(snapshotID: String, createdAtMillis: Int64, reason: String, modelName: String?, modelVersion: Int?,
                 rows: Int64, holdoutRows: Int64, directory: String, csvFile: String) {
        self.snapshotID = snapshotID
        self.createdAtMillis = createdAtMillis
        self.reason = reason
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.rows = rows
        self.holdoutRows = holdoutRows
        self.directory = directory
        self.csvFile = csvFile
    }

    /// The CSV file's path: ``csvFile`` resolved against ``directory``.
    package var csvPath: String { Self.resolve(csvFile, directory: directory) }

    /// A snapshot file's path: `file` itself when it is absolute (starts with `/`), else `file` inside `directory`
    /// (which may itself be relative, to the working directory). One `/` joins them whatever either side has, and an
    /// empty `directory` leaves `file` as it is.
    package static func resolve(_ file: String, directory: String) -> String {
        if file.hasPrefix("/") || directory.isEmpty { return file }
        var base = Substring(directory)
        while base.count > 1, base.last == "/" { base = base.dropLast() }
        var relative = Substring(file)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        return base == "/" ? "/" + relative : base + "/" + relative
    }
}
