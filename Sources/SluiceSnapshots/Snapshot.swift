/// A snapshot on disk and in the `snapshots` table: its manifest and where its files are.
package struct Snapshot: Sendable, Hashable {
    /// File names inside a snapshot's directory.
    package enum FileName {
        package static let parquet = "data.parquet"
        package static let csv = "data.csv"
        package static let manifest = "manifest.json"
    }

    /// What `manifest.json` holds.
    package var manifest: SnapshotManifest
    /// The absolute path of the snapshot's directory, `<directory>/<snapshot_id>`.
    package var directory: String
    /// The exact bytes of `manifest.json`.
    package var manifestJSON: [UInt8]

    package init(manifest: SnapshotManifest, directory: String, manifestJSON: [UInt8]) {
        self.manifest = manifest
        self.directory = directory
        self.manifestJSON = manifestJSON
    }

    package var snapshotID: String { manifest.snapshotID }
    package var parquetPath: String { directory + "/" + FileName.parquet }
    package var csvPath: String { directory + "/" + FileName.csv }
    package var manifestPath: String { directory + "/" + FileName.manifest }
}
