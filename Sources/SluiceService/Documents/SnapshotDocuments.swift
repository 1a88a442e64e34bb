import SluiceKafka
import SluiceSnapshots

/// A snapshot just taken, as `sluice snapshot create --json` and `POST /v1/snapshots` print it: the manifest, the
/// directory, the retrain request and whether it was published.
package struct SnapshotCreatedJSON: Encodable, Sendable {
    package var snapshot: SnapshotManifest
    package var directory: String
    package var retrainRequest: RetrainRequest
    package var published: Delivery?
    package var publishError: String?

    package struct Delivery: Encodable, Sendable {
        package var topic: String
        package var partition: Int32
        package var offset: Int64
    }

    package init(_ publication: SnapshotPublication) {
        snapshot = publication.snapshot.manifest
        directory = publication.snapshot.directory
        retrainRequest = publication.retrainRequest
        switch publication.outcome {
        case .delivered(let report): published = Delivery(topic: report.topic, partition: report.partition, offset: report.offset)
        case .failed(let error): publishError = "\(error)"
        case .skipped: break
        }
    }

    enum CodingKeys: String, CodingKey {
        case snapshot, directory, published
        case retrainRequest = "retrain_request", publishError = "publish_error"
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(snapshot, forKey: .snapshot)
        try container.encode(directory, forKey: .directory)
        try container.encode(retrainRequest, forKey: .retrainRequest)
        try container.encode(published, forKey: .published)  // null when not published
        try container.encodeIfPresent(publishError, forKey: .publishError)
    }
}
