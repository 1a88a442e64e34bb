import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceKafka
import SluiceRegistry
import SluiceSnapshots

extension SnapshotCommand {
    /// `sluice snapshot create [--since T] [--until T] [--model NAME] [--version N] [--holdout F] [--dir DIR]
    /// [--no-publish] [--json] [--config FILE]`.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Export labelled rows to <dir>/<snapshot_id>/ (data.parquet, data.csv, manifest.json) and publish a retrain request.",
            discussion: """
                Rows are the labelled predictions with since <= event_time < until (either bound may be left out), \
                of --model (and --version) when given, oldest first. Each row gets split = train or holdout by a hash \
                of its entity id, so an entity is always on the same side (docs/snapshots.md). The snapshot is \
                recorded in the snapshots table; then a retrain request is published to outputs.retrain_topic \
                (key: the model name) unless --no-publish.

                Exit status: 0 snapshot taken (and published unless --no-publish); 1 no snapshot (for example no \
                labelled row matches: nothing is written); 2 invalid configuration; 3 snapshot taken but the retrain \
                request could not be published.
                """
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: ArgumentHelp("Earliest event time included: RFC 3339 or epoch milliseconds.", valueName: "time"))
        var since: String?

        @Option(help: ArgumentHelp("Event times before this are included: RFC 3339 or epoch milliseconds.", valueName: "time"))
        var until: String?

        @Option(help: "Only rows scored by this model.")
        var model: String?

        @Option(help: "Only rows scored by this version of --model.")
        var version: Int?

        @Option(help: ArgumentHelp("Share of entities marked holdout, 0…1; 0 leaves the split column out (default: snapshots.holdout_fraction).", valueName: "fraction"))
        var holdout: Double?

        @Option(help: ArgumentHelp("Directory that receives the snapshot (default: snapshots.directory).", valueName: "dir"))
        var dir: String?

        @Flag(help: "Do not publish the retrain request.")
        var noPublish = false

        @Flag(help: "Print JSON: the manifest, the snapshot's files and the retrain request.")
        var json = false

        func validate() throws {
            let sinceMillis = try since.map { try SnapshotCommand.parseTime($0, option: "--since") }
            let untilMillis = try until.map { try SnapshotCommand.parseTime($0, option: "--until") }
            if let sinceMillis, let untilMillis, sinceMillis >= untilMillis {
                throw ValidationError("--since \(since ?? "") is not before --until \(until ?? ""); expected since < until (until is exclusive)")
            }
            if let holdout, !(holdout.isFinite && (0...1).contains(holdout)) {
                throw ValidationError("--holdout \(holdout) is out of range; expected a fraction from 0 to 1 (0 disables the split)")
            }
            if let version {
                guard model != nil else { throw ValidationError("--version \(version) needs --model: a version number only means something with its model") }
                guard version > 0 else { throw ValidationError("--version \(version) is out of range; expected a positive version number") }
            }
        }

        func run() async throws {
            var published = true
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                if let model { try ModelRegistry.validate(name: model) }
                let request = SnapshotRequest(
                    directory: dir ?? config.snapshots.directory, reason: .manual,
                    sinceMillis: try since.map { try SnapshotCommand.parseTime($0, option: "--since") },
                    untilMillis: try until.map { try SnapshotCommand.parseTime($0, option: "--until") },
                    modelName: model, modelVersion: version,
                    holdoutFraction: holdout ?? config.snapshots.holdoutFraction, rowGroupRows: config.snapshots.rowGroupRows)
                let logger = CommandLogging.logger("sluice.snapshot")
                let producer = noPublish ? nil : try KafkaProducer(configuration: SnapshotCommand.producerConfiguration(config.kafka), logger: logger)
                let publication = try await SnapshotCommand.withConnection(config) { connection in
                    let exporter = try SnapshotExporter(connection: connection, schema: config.postgres.schema, logger: logger)
                    let service = SnapshotService(exporter: exporter, producer: producer, topic: config.outputs.retrainTopic, logger: logger)
                    return try await service.createSnapshot(request)
                }
                try? await producer?.close(timeoutMillis: 5_000)
                print(json ? try SnapshotCommand.json(publication) : SnapshotCommand.text(publication, topic: config.outputs.retrainTopic))
                if case .failed(let error) = publication.outcome {
                    let text = "\(error)".split(whereSeparator: \.isNewline).joined(separator: "; ")
                    FileHandle.standardError.write(Data("error: snapshot \(publication.snapshot.snapshotID) was taken, but its retrain request was not published to \(config.outputs.retrainTopic): \(text)\n".utf8))
                    published = false
                }
            }
            if !published { throw ExitCode(3) }
        }
    }
}
