/// Why a snapshot was taken, as stored in `snapshots.reason` (whose CHECK constraint allows exactly these).
package enum SnapshotReason: String, Sendable, Hashable, CaseIterable, Codable {
    /// Someone ran `sluice snapshot create`.
    case manual
    /// A drift alert fired (the request carries its `alert_id`).
    case alert
    /// A periodic export (`snapshots.schedule`).
    case schedule
    /// Requested through the admin HTTP API.
    case api
}
