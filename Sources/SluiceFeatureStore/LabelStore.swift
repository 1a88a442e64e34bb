import Logging
import SluicePostgres

/// Joins labels to the predictions logged in `feature_log` and keeps them in `labelled`, with the labels topic's
/// consumed offsets in the same transaction (exactly-once effect, like the feature store's micro-batches).
///
/// A labelled row copies the logged row as it was written when the event was scored — its features, score and
/// model version — so it is point-in-time correct by construction: later events of the same entity never leak in.
package struct LabelStore: Sendable {
    /// How a label names its prediction.
    package enum Key: Hashable, Sendable {
        /// `prediction_id` of a prediction message: the scored event's `topic/partition/offset`.
        case prediction(topic: String, partition: Int32, offset: Int64)
        /// `event_id` of the scored event (the newest logged event with that id when several share it).
        case event(String)
    }

    /// One decoded label.
    package struct Label: Sendable {
        package var key: Key
        package var label: Double
        package var labelTimeMillis: Int64
        /// Where the label was read from.
        package var topic: String
        package var partition: Int32
        package var offset: Int64

        package init(key: Key, label: Double, labelTimeMillis: Int64, topic: String, partition: Int32, offset: Int64) {
            self.key = key
            self.label = label
            self.labelTimeMillis = labelTimeMillis
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    /// A logged prediction a label refers to.
    package struct Match: Sendable, Equatable {
        package var topic: String
        package var partition: Int32
        package var offset: Int64
        package var eventTimeMillis: Int64
        package var modelName: String?
        package var modelVersion: Int32?
        package var score: Double?
    }

    /// What a join did with each label, by index into the labels given.
    package struct Outcome: Sendable {
        /// Labels written to `labelled`, with the prediction each was joined to.
        package var joined: [(index: Int, match: Match)] = []
        /// Labels whose prediction is not in the feature log (yet).
        package var notFound: [Int] = []
        /// Labels that arrived more than the horizon after their prediction's event time.
        package var beyondHorizon: [(index: Int, match: Match)] = []
    }

    private let s: String
    private let group: String
    private let connection: PostgresConnection

    /// - Parameter group: the consumer group whose label offsets this store keeps (the worker's group + `.labels`);
    ///   claim its partitions with a ``FeatureStore`` of the same group.
    package init(connection: PostgresConnection, schema: String, group: String) throws(FeatureStoreError) {
        self.connection = connection
        self.s = try FeatureStore.quotedIdentifier(schema)
        self.group = group
    }

    /// In one transaction: finds each label's logged prediction, writes the labels within `horizonMillis` of their
    /// prediction to `labelled` (the label with the latest label time wins; the same label read twice changes
    /// nothing), and stores `offsets` (refused with `.fenced` when another worker has claimed a partition since).
    package func join(_ labels: [Label], horizonMillis: Int64, offsets: [FeatureStoreBatch.OffsetWrite]) async throws -> Outcome {
        let s = self.s, group = self.group
        return try await connection.transaction { connection in
            try await FeatureStore.storeOffsets(offsets, group: group, schema: s, on: connection)
            var matches = [Match?](repeating: nil, count: labels.count)
            let byPrediction = labels.indices.compactMap { i -> (Int, String, Int32, Int64)? in
                if case .prediction(let t, let p, let o) = labels[i].key { return (i, t, p, o) } else { return nil }
            }
            if !byPrediction.isEmpty {
                let rows = try await connection.query("""
                    SELECT DISTINCT ON (u.i) u.i, f.source_topic, f.source_partition, f.source_offset, f.event_time,
                           f.model_name, f.model_version, f.score
                    FROM unnest($1::int4[], $2::text[], $3::int4[], $4::int8[]) AS u(i, t, p, o)
                    JOIN \(s).feature_log f ON f.source_offset = u.o AND f.source_partition = u.p AND f.source_topic = u.t
                    ORDER BY u.i
                    """, [byPrediction.map { Int32($0.0) }, byPrediction.map(\.1), byPrediction.map(\.2), byPrediction.map(\.3)])
                for row in rows { matches[Int(try row.decode(Int32.self, column: 0))] = try Self.match(row) }
            }
            let byEvent = labels.indices.compactMap { i -> (Int, String)? in
                if case .event(let id) = labels[i].key { return (i, id) } else { return nil }
            }
            if !byEvent.isEmpty {
                let rows = try await connection.query("""
                    SELECT DISTINCT ON (u.i) u.i, f.source_topic, f.source_partition, f.source_offset, f.event_time,
                           f.model_name, f.model_version, f.score
                    FROM unnest($1::int4[], $2::text[]) AS u(i, e)
                    JOIN \(s).feature_log f ON f.event_id = u.e
                    ORDER BY u.i, f.event_time DESC, f.source_offset DESC
                    """, [byEvent.map { Int32($0.0) }, byEvent.map(\.1)])
                for row in rows { matches[Int(try row.decode(Int32.self, column: 0))] = try Self.match(row) }
            }
            var outcome = Outcome()
            var write: [(label: Label, match: Match)] = []
            for (i, match) in matches.enumerated() {
                guard let match else { outcome.notFound.append(i); continue }
                if labels[i].labelTimeMillis - match.eventTimeMillis > horizonMillis {
                    outcome.beyondHorizon.append((i, match))
                } else {
                    outcome.joined.append((i, match))
                    write.append((labels[i], match))
                }
            }
            if !write.isEmpty {
                // DISTINCT ON keeps, per prediction, the batch's label with the latest label time (then offset).
                try await connection.execute("""
                    INSERT INTO \(s).labelled AS l (prediction_id, event_id, entity, event_time, model_name, model_version, score, scores,
                                                  features, label, label_time, label_topic, label_partition, label_offset)
                    SELECT DISTINCT ON (f.prediction_id) f.prediction_id, f.event_id, f.entity, f.event_time, f.model_name, f.model_version,
                           f.score, f.scores, f.features, u.label, u.label_time, u.lt, u.lp, u.lo
                    FROM unnest($1::text[], $2::int4[], $3::int8[], $4::float8[], $5::timestamptz[], $6::text[], $7::int4[], $8::int8[])
                         AS u(t, p, o, label, label_time, lt, lp, lo)
                    JOIN \(s).feature_log f ON f.source_offset = u.o AND f.source_partition = u.p AND f.source_topic = u.t
                    ORDER BY f.prediction_id, u.label_time DESC, u.lo DESC
                    ON CONFLICT (prediction_id) DO UPDATE SET
                        label = excluded.label, label_time = excluded.label_time, labelled_at = now(),
                        label_topic = excluded.label_topic, label_partition = excluded.label_partition, label_offset = excluded.label_offset
                    WHERE (l.label_time, l.label_offset) <= (excluded.label_time, excluded.label_offset)
                    """, [write.map(\.match.topic), write.map(\.match.partition), write.map(\.match.offset), write.map(\.label.label),
                          write.map { PostgresTimestamp(millisecondsSinceUnixEpoch: $0.label.labelTimeMillis) },
                          write.map(\.label.topic), write.map(\.label.partition), write.map(\.label.offset)])
            }
            return outcome
        }
    }

    private static func match(_ row: PostgresRow) throws -> Match {
        Match(topic: try row.decode(String.self, column: 1), partition: try row.decode(Int32.self, column: 2),
              offset: try row.decode(Int64.self, column: 3),
              eventTimeMillis: try row.decode(PostgresTimestamp.self, column: 4).microsecondsSinceUnixEpoch / 1_000,
              modelName: try row.decode(String?.self, column: 5), modelVersion: try row.decode(Int32?.self, column: 6),
              score: try row.decode(Double?.self, column: 7))
    }

    /// One rolling-performance evaluation of a model version over its latest labelled predictions.
    package struct PerformanceWrite: Sendable {
        package var modelName: String
        package var modelVersion: Int32
        package var labelled: Int64
        package var windowLabels: Int32
        package var accuracy: Double?
        package var logLoss: Double?
        package var meanAbsoluteError: Double?
        package var auc: Double?
        package var errorEstimate: Double?

        package init(modelName: String, modelVersion: Int32, labelled: Int64, windowLabels: Int32, accuracy: Double?, logLoss: Double?,
                     meanAbsoluteError: Double?, auc: Double?, errorEstimate: Double?) {
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.labelled = labelled
            self.windowLabels = windowLabels
            self.accuracy = accuracy
            self.logLoss = logLoss
            self.meanAbsoluteError = meanAbsoluteError
            self.auc = auc
            self.errorEstimate = errorEstimate
        }
    }

    /// Records concept-drift alert states and performance evaluations (after the labels they come from committed).
    package func record(alerts: [FeatureStoreBatch.DriftAlertWrite], performance: [PerformanceWrite]) async throws {
        guard !alerts.isEmpty || !performance.isEmpty else { return }
        let s = self.s
        try await connection.transaction { connection in
            try await FeatureStore.storeAlerts(alerts, schema: s, on: connection)
            if !performance.isEmpty {
                try await connection.execute("""
                    INSERT INTO \(s).performance_reports (model_name, model_version, labelled, window_labels, accuracy, log_loss,
                        mean_absolute_error, auc, error_estimate)
                    SELECT * FROM unnest($1::text[], $2::int4[], $3::int8[], $4::int4[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[])
                    """, [performance.map(\.modelName), performance.map(\.modelVersion), performance.map(\.labelled), performance.map(\.windowLabels),
                          performance.map(\.accuracy), performance.map(\.logLoss), performance.map(\.meanAbsoluteError), performance.map(\.auc),
                          performance.map(\.errorEstimate)])
            }
        }
    }
}
