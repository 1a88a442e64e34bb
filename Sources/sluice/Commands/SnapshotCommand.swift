import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import SluiceSnapshots

/// `sluice snapshot create|list`: labelled snapshots for retraining (docs/snapshots.md).
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Export labelled rows (features as scored, score, label) to Parquet + CSV + manifest, and list snapshots.",
        subcommands: [Create.self, List.self]
    )

    /// `--since`/`--until`: RFC 3339 or epoch milliseconds.
    static func parseTime(_ text: String, option: String) throws -> Int64 {
        if let millis = Int64(text) { return millis }
        if let millis = RFC3339Timestamp.parseMillis(text) { return millis }
        throw ValidationError("\(option) '\(text)' is not a time; expected RFC 3339 (e.g. 2026-11-23T10:00:00Z) or epoch milliseconds")
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Export the labelled rows selected by event time and model, and publish a retrain request.",
            discussion: """
                Rows with since <= event_time < until (either bound may be left open) of the model (and version) \
                given go to <dir>/<snapshot_id>/data.parquet, data.csv and manifest.json; a row in the snapshots \
                table records the snapshot, and {snapshot_id, uri, rows, model, reason, created_at} goes to \
                outputs.retrain_topic (unless --no-publish). Exits 1 with a message when no labelled row matches.
                """
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "Earliest event time (RFC 3339 or epoch ms), inclusive.")
        var since: String?

        @Option(help: "End of the event-time range (RFC 3339 or epoch ms), exclusive.")
        var until: String?

        @Option(help: "Only rows scored by this model.")
        var model: String?

        @Option(help: "Only rows scored by this version of --model.")
        var version: Int?

        @Option(help: "Share of entities in the holdout split, 0…1 (default: snapshots.holdout_fraction; 0 = no split column).")
        var holdout: Double?

        @Option(help: "Directory for the snapshot (default: snapshots.directory).")
        var dir: String?

        @Flag(help: "Do not publish the retrain request.")
        var noPublish = false

        @Flag(help: "Print the manifest as JSON.")
        var json = false

        func validate() throws {
            if version != nil && model == nil { throw ValidationError("--version needs --model") }
        }

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let request = SnapshotRequest(
                    directory: dir ?? config.snapshots.directory, reason: .manual,
                    sinceMillis: try since.map { try SnapshotCommand.parseTime($0, option: "--since") },
                    untilMillis: try until.map { try SnapshotCommand.parseTime($0, option: "--until") },
                    modelName: model, modelVersion: version, holdoutFraction: holdout ?? config.snapshots.holdoutFraction,
                    rowGroupRows: config.snapshots.rowGroupRows)
                let logger = CommandLogging.logger("sluice.snapshots")
                let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: logger)
                defer { Task { await connection.close() } }
                let producer = noPublish ? nil : try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: config.kafka.brokers), logger: logger)
                let service = SnapshotService(exporter: try SnapshotExporter(connection: connection, schema: config.postgres.schema, logger: logger),
                                              producer: producer, topic: config.outputs.retrainTopic, logger: logger)
                let publication = try await service.createSnapshot(request)
                try? await producer?.close()
                let snapshot = publication.snapshot
                if json {
                    print(String(decoding: snapshot.manifestJSON, as: UTF8.self))
                } else {
                    let m = snapshot.manifest
                    print("snapshot \(snapshot.snapshotID): \(m.rows) rows (\(m.holdoutRows) holdout), \(m.columns.count) columns in \(snapshot.directory)")
                    for file in m.files { print("  \(file.name)  \(file.bytes) bytes  sha256 \(file.sha256)") }
                }
                switch publication.outcome {
                case .delivered(let report):
                    if !json { print("retrain request published to \(report.topic) [\(report.partition)] @\(report.offset)") }
                case .skipped: break
                case .failed(let error):
                    FileHandle.standardError.write(Data("warning: the snapshot stands, but its retrain request was not published to \(config.outputs.retrainTopic): \(error)\n".utf8))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List snapshots, newest first.")

        @OptionGroup var options: ConfigOptions

        @Option(help: "Only snapshots of this model.")
        var model: String?

        @Option(help: "At most this many.")
        var limit: Int = 50

        @Flag(help: "Print JSON: an array of snapshots.")
        var json = false

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: CommandLogging.logger("sluice.snapshots"))
                defer { Task { await connection.close() } }
                let entries = try await SnapshotListing(connection: connection, schema: config.postgres.schema).list(model: model, limit: limit)
                if json {
                    print(try ModelsCommand.json(entries.map(Row.init)))
                    return
                }
                if entries.isEmpty {
                    print("no snapshots in schema \(config.postgres.schema)\(model.map { " for model \($0)" } ?? "")")
                    return
                }
                for e in entries {
                    let model = e.modelName.map { name in e.modelVersion.map { "\(name) v\($0)" } ?? name } ?? "all models"
                    print("\(e.snapshotID)  \(formatRFC3339(millis: e.createdAtMillis))  \(e.reason)\(e.alertID.map { " (alert \($0))" } ?? "")  \(model)  \(e.rows) rows (\(e.holdoutRows) holdout)  \(e.directory)")
                }
            }
        }

        struct Row: Encodable {
            var snapshot_id: String
            var created_at: String
            var reason: String
            var alert_id: String?
            var model_name: String?
            var model_version: Int?
            var since: String?
            var until: String?
            var rows: Int64
            var holdout_rows: Int64
            var directory: String
            var files: [String: String]

            init(_ e: SnapshotEntry) {
                snapshot_id = e.snapshotID
                created_at = formatRFC3339(millis: e.createdAtMillis)
                reason = e.reason
                alert_id = e.alertID
                model_name = e.modelName
                model_version = e.modelVersion
                since = e.sinceMillis.map { formatRFC3339(millis: $0) }
                until = e.untilMillis.map { formatRFC3339(millis: $0) }
                rows = e.rows
                holdout_rows = e.holdoutRows
                directory = e.directory
                files = ["parquet": e.parquetFile, "csv": e.csvFile, "manifest": e.manifestFile]
            }
        }
    }
}
