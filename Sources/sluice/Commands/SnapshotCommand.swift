import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import SluiceSnapshots

/// `sluice snapshot …`: labelled-data snapshots for retraining (docs/snapshots.md).
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Export labelled rows to Parquet + CSV + manifest for retraining, and list the snapshots taken.",
        subcommands: [Create.self, List.self]
    )
}

extension SnapshotCommand {
    /// A time given on the command line: RFC 3339 (`2026-01-02T03:04:05Z`, any offset) or epoch milliseconds.
    /// - Throws: `ValidationError` naming the option, the value and what was expected.
    static func parseTime(_ text: String, option: String) throws -> Int64 {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) || (text.hasPrefix("-") && text.count > 1 && text.dropFirst().utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })) {
            guard let millis = Int64(text) else {
                throw ValidationError("\(option) '\(text)' is out of range; expected epoch milliseconds or an RFC 3339 time such as 2026-01-02T03:04:05Z")
            }
            return millis
        }
        guard let millis = RFC3339Timestamp.parseMillis(text) else {
            throw ValidationError("\(option) '\(text)' is not a time; expected RFC 3339 (e.g. 2026-01-02T03:04:05Z or 2026-01-02T04:04:05+01:00) or epoch milliseconds (e.g. 1767323045000)")
        }
        return millis
    }

    /// Runs `body` with a session on the configured PostgreSQL, closing it afterwards.
    static func withConnection<T>(_ config: SluiceConfig, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(url: config.postgres.url.value, logger: CommandLogging.logger("sluice.snapshot"))
        do {
            let value = try await body(connection)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The producer settings of the configuration (as the worker uses them), for the retrain request.
    static func producerConfiguration(_ kafka: KafkaConfig) -> KafkaProducerConfiguration {
        var producer = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
        producer.clientID = kafka.clientID
        producer.idempotence = kafka.producer.idempotence
        producer.lingerMillis = Int(millis(kafka.producer.linger))
        producer.batchBytes = kafka.producer.batchBytes
        producer.compression = KafkaProducerConfiguration.Compression(rawValue: kafka.producer.compression.rawValue) ?? .none
        producer.messageTimeoutMillis = Int(millis(kafka.producer.messageTimeout))
        producer.maxMessageBytes = kafka.producer.maxMessageBytes
        producer.properties = Dictionary(kafka.properties.entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        return producer
    }

    private static func millis(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// `12.3 MiB`-style size.
    static func size(_ bytes: Int64) -> String {
        if bytes < 1_024 { return "\(bytes) B" }
        if bytes < 1_048_576 { return String(format: "%.1f KiB", Double(bytes) / 1_024) }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

/// A `sluice snapshot` failure that is not the exporter's or the database's.
struct SnapshotCommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
