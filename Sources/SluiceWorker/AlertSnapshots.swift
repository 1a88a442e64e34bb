import Foundation
import Logging
import SluiceConfiguration
import SluiceSnapshots

/// Exports a labelled snapshot when asked through the HTTP API, when a drift alert fires (`snapshots.on_alert`), at most one per model within
/// `snapshots.cooldown`, and every `snapshots.schedule`, and publishes its retrain request. Runs beside the
/// stream: an alert never waits for the export, and exports run one at a time.
///
/// The snapshot holds the model's labelled rows from the alert's window start on (what the alert is about and
/// everything labelled since) and names the alert (`alert_id` in its row, manifest and retrain request).
package actor AlertSnapshots {
    private let service: SnapshotService
    private let settings: SnapshotsConfig
    private let logger: Logger
    private var lastTaken: [String: ContinuousClock.Instant] = [:]
    private var running: Task<Void, Never>?
    /// Snapshots taken and alerts skipped within the cooldown (for logs and tests).
    package private(set) var taken: [String] = []
    package private(set) var skipped = 0

    package init(service: SnapshotService, settings: SnapshotsConfig, logger: Logger) {
        self.service = service
        self.settings = settings
        self.logger = logger
    }

    /// A firing alert: starts its snapshot unless one for the model was started within the cooldown.
    package func alertFired(alertID: String, modelName: String, windowStartMillis: Int64?) {
        let now = ContinuousClock.now
        if let last = lastTaken[modelName], now - last < settings.cooldown {
            skipped += 1
            logger.info("drift alert within the snapshot cooldown: no new snapshot", metadata: ["alert_id": "\(alertID)", "model": "\(modelName)"])
            return
        }
        lastTaken[modelName] = now
        enqueue(SnapshotRequest(directory: settings.directory, reason: .alert, sinceMillis: windowStartMillis, modelName: modelName,
                                alertID: alertID, holdoutFraction: settings.holdoutFraction, rowGroupRows: settings.rowGroupRows))
    }

    /// A scheduled snapshot (`snapshots.schedule`): the model's rows labelled for events of the last period.
    package func scheduled(modelName: String, periodMillis: Int64, nowMillis: Int64) {
        enqueue(SnapshotRequest(directory: settings.directory, reason: .schedule, sinceMillis: nowMillis - periodMillis, modelName: modelName,
                                holdoutFraction: settings.holdoutFraction, rowGroupRows: settings.rowGroupRows))
    }

    /// A snapshot asked for through the HTTP API: exported after those already started; returns once it is
    /// taken and its retrain request is published (or has failed to be).
    package func requested(_ request: SnapshotRequest) async throws -> SnapshotPublication {
        let previous = running
        let export = Task {
            await previous?.value
            return try await service.createSnapshot(request)
        }
        running = Task { _ = try? await export.value }
        let publication = try await export.value
        taken.append(publication.snapshot.snapshotID)
        return publication
    }

    /// Exports after the snapshots started before it: one at a time, in order.
    private func enqueue(_ request: SnapshotRequest) {
        let previous = running
        running = Task {
            await previous?.value
            await self.export(request)
        }
    }

    /// Runs `scheduled` every `snapshots.schedule` until cancelled (nothing when no schedule is set).
    package func runSchedule(modelName: String) async {
        guard let period = settings.schedule else { return }
        let millis = WorkerSetup.millis(period)
        while !Task.isCancelled {
            do { try await Task.sleep(for: period) } catch { return }
            scheduled(modelName: modelName, periodMillis: millis, nowMillis: Int64(Date().timeIntervalSince1970 * 1_000))
        }
    }

    /// Waits for the snapshots started so far.
    package func settle() async {
        await running?.value
    }

    private func export(_ request: SnapshotRequest) async {
        do {
            let publication = try await service.createSnapshot(request)
            taken.append(publication.snapshot.snapshotID)
            logger.notice("snapshot taken", metadata: ["reason": "\(request.reason)",
                "snapshot_id": "\(publication.snapshot.snapshotID)", "alert_id": "\(request.alertID ?? "-")",
                "rows": "\(publication.snapshot.manifest.rows)", "directory": "\(publication.snapshot.directory)"])
        } catch {
            logger.error("snapshot failed", metadata: ["reason": "\(request.reason)","alert_id": "\(request.alertID ?? "-")", "error": "\(error)"])
        }
    }
}
