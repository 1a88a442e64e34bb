import SluiceKafka

/// A snapshot taken by ``SnapshotService`` and what became of its retrain request.
package struct SnapshotPublication: Sendable {
    /// What happened to the retrain request.
    package enum Outcome: Sendable {
        /// Kafka acknowledged it.
        case delivered(KafkaDeliveryReport)
        /// Publishing was not asked for (no producer).
        case skipped
        /// Producing failed; the snapshot stands.
        case failed(any Error)
    }

    /// The snapshot, on disk and in the `snapshots` table whatever the outcome.
    package var snapshot: Snapshot
    /// The message for the retrain-requests topic.
    package var retrainRequest: RetrainRequest
    package var outcome: Outcome

    package init(snapshot: Snapshot, retrainRequest: RetrainRequest, outcome: Outcome) {
        self.snapshot = snapshot
        self.retrainRequest = retrainRequest
        self.outcome = outcome
    }
}
