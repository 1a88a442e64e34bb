/// A row of the `snapshots` table.
package struct SnapshotEntry: Sendable, Hashable {
    package var snapshotID: String
    package var createdAtMillis: Int64
    package var reason: String
    package var alertID: String?
    package var modelName: String?
    package var modelVersion: Int?
    package var sinceMillis: Int64?
    package var untilMillis: Int64?
    package var rows: Int64
    package var holdoutRows: Int64
    /// Absolute path of the snapshot's directory.
    package var directory: String
    package var parquetFile: String
    package var csvFile: String
    package var manifestFile: String
    package var parquetSHA256: String
    package var csvSHA256: String

    package init(snapshotID: String, createdAtMillis: Int64, reason: String, alertID: String?, modelName: String?, modelVersion: Int?,
                 sinceMillis: Int64?, untilMillis: Int64?, rows: Int64, holdoutRows: Int64, directory: String, parquetFile: String,
                 csvFile: String, manifestFile: String, parquetSHA256: String, csvSHA256: String) {
        self.snapshotID = snapshotID
        self.createdAtMillis = createdAtMillis
        self.reason = reason
        self.alertID = alertID
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.sinceMillis = sinceMillis
        self.untilMillis = untilMillis
        self.rows = rows
        self.holdoutRows = holdoutRows
        self.directory = directory
        self.parquetFile = parquetFile
        self.csvFile = csvFile
        self.manifestFile = manifestFile
        self.parquetSHA256 = parquetSHA256
        self.csvSHA256 = csvSHA256
    }
}
