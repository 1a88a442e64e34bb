import Foundation
import Logging
import SluiceFeatures
import SluiceKafka
import SluicePostgres

/// The demo's ingest loop: consume, decode, dead-letter the bad, and write each micro-batch's rows and next
/// offsets in one PostgreSQL transaction. On assignment it starts from the offsets stored in PostgreSQL,
/// so a crash at any point neither loses nor duplicates rows.
struct DemoIngest {
    struct Summary {
        var events = 0
        var deadLettered = 0
        var transactions = 0
        var reasons: [String: Int] = [:]
    }

    let brokers: String
    let topic: String
    let deadLetterTopic: String
    let database: PostgresConnection
    let batchSize: Int
    let logger: Logger
    let group = "sluice-demo"

    /// Consumes until the stored offsets reach `target` (the partitions' high watermarks).
    func run(until target: [KafkaTopicPartition: Int64]) async throws -> Summary {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: group)
        configuration.offsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers), logger: logger)
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 100_000))
        try consumer.subscribe(topics: [topic])

        var summary = Summary()
        var stored = try await DemoStore.offsets(database, group: group, topic: topic)
        var batch = DemoBatch()
        var event = DecodedEvent()
        func done() -> Bool { target.allSatisfy { (stored[$0.key] ?? 0) >= $0.value } }
        if done() { await consumer.close(); return summary }

        for await consumerEvent in consumer.events {
            switch consumerEvent {
            case .partitionsAssigned(let assignment):
                stored = try await DemoStore.offsets(database, group: group, topic: topic)
                assignment.start(at: stored.filter { assignment.partitions.contains($0.key) })
            case .partitionsRevoked(let revocation):
                try await flush(&batch, producer: producer, summary: &summary, stored: &stored)
                revocation.done()
            case .error(let error):
                logger.warning("consumer error", metadata: ["error": "\(error)"])
            case .messages(let messages):
                let now = Int64(Date().timeIntervalSince1970 * 1_000)
                for message in messages {
                    let error = message.withUnsafeValue { decoder.decode($0, nowMillis: now, into: &event) }
                    batch.add(message, event: error == nil ? event : nil, error: error, deadLetterTopic: deadLetterTopic)
                    if batch.count >= batchSize {
                        try await flush(&batch, producer: producer, summary: &summary, stored: &stored)
                    }
                }
                try await flush(&batch, producer: producer, summary: &summary, stored: &stored)
            }
            if done() { break }
        }
        await consumer.close()
        try await producer.close()
        return summary
    }

    /// Dead letters are acknowledged by Kafka first; then rows and next offsets commit together.
    private func flush(_ batch: inout DemoBatch, producer: KafkaProducer, summary: inout Summary,
                       stored: inout [KafkaTopicPartition: Int64]) async throws {
        if batch.count == 0 { return }
        _ = try await producer.sendBatch(batch.deadLetters)
        let rows = batch.rows
        let next = batch.nextOffsets
        try await database.transaction { connection in
            if !rows.isEmpty {
                try await connection.copyInBinary("COPY demo_events (topic, partition, \"offset\", entity, event_time, amount, merchant, country) FROM STDIN (FORMAT binary)") { encoder in
                    for row in rows {
                        try encoder.beginRow(fieldCount: 8)
                        try encoder.write(row.topic)
                        encoder.write(row.partition)
                        encoder.write(row.offset)
                        try encoder.write(row.entity)
                        try encoder.write(PostgresTimestamp(millisecondsSinceUnixEpoch: row.eventTimeMillis))
                        encoder.write(row.amount)
                        try encoder.write(row.merchant)
                        try encoder.write(row.country)
                    }
                }
            }
            try await DemoStore.storeOffsets(connection, group: group, offsets: next)
        }
        summary.events += rows.count
        summary.deadLettered += batch.deadLetters.count
        summary.transactions += 1
        for (reason, count) in batch.reasons { summary.reasons[reason, default: 0] += count }
        stored.merge(next) { _, new in new }
        batch = DemoBatch()
    }
}

/// One micro-batch of the demo: rows for PostgreSQL, dead letters for Kafka, and the next offset per partition.
struct DemoBatch {
    struct Row: Sendable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var entity: String
        var eventTimeMillis: Int64
        var amount: Double
        var merchant: String
        var country: String
    }

    var rows: [Row] = []
    var deadLetters: [KafkaProducerMessage] = []
    var nextOffsets: [KafkaTopicPartition: Int64] = [:]
    var reasons: [String: Int] = [:]
    var count: Int { rows.count + deadLetters.count }

    mutating func add(_ message: KafkaMessage, event: DecodedEvent?, error: EventDecodeError?, deadLetterTopic: String) {
        nextOffsets[message.topicPartition] = message.offset + 1
        if let event, case .double(let amount) = event.values[0], case .string(let merchant) = event.values[1],
           case .string(let country) = event.values[2] {
            rows.append(Row(topic: message.topic, partition: message.partition, offset: message.offset, entity: event.entityID,
                            eventTimeMillis: event.eventTimeMillis, amount: amount, merchant: merchant, country: country))
            return
        }
        let reason = error?.reason.rawValue ?? "invalid_event"
        reasons[reason, default: 0] += 1
        deadLetters.append(KafkaProducerMessage(
            topic: deadLetterTopic, key: message.key.map(Array.init), value: Array(message.value),
            headers: [KafkaHeader(name: "sluice.error", text: error?.description ?? reason),
                      KafkaHeader(name: "sluice.source.topic", text: message.topic),
                      KafkaHeader(name: "sluice.source.partition", text: String(message.partition)),
                      KafkaHeader(name: "sluice.source.offset", text: String(message.offset))]))
    }
}

/// The demo's tables.
enum DemoStore {
    static func migrate(_ database: PostgresConnection) async throws {
        try await database.execute("""
            CREATE TABLE IF NOT EXISTS demo_events (
                topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL,
                entity text NOT NULL, event_time timestamptz NOT NULL,
                amount float8 NOT NULL, merchant text NOT NULL, country text NOT NULL,
                PRIMARY KEY (topic, partition, "offset"))
            """)
        try await database.execute("""
            CREATE TABLE IF NOT EXISTS demo_offsets (
                consumer_group text NOT NULL, topic text NOT NULL, partition int NOT NULL, next_offset bigint NOT NULL,
                PRIMARY KEY (consumer_group, topic, partition))
            """)
    }

    static func offsets(_ database: PostgresConnection, group: String, topic: String) async throws -> [KafkaTopicPartition: Int64] {
        let rows = try await database.query("SELECT partition, next_offset FROM demo_offsets WHERE consumer_group = $1 AND topic = $2", [group, topic])
        var result: [KafkaTopicPartition: Int64] = [:]
        for row in rows {
            result[KafkaTopicPartition(topic: topic, partition: try row.decode(Int32.self, column: 0))] = try row.decode(Int64.self, column: 1)
        }
        return result
    }

    static func storeOffsets(_ connection: PostgresConnection, group: String, offsets: [KafkaTopicPartition: Int64]) async throws {
        let entries = offsets.sorted { $0.key < $1.key }
        try await connection.execute("""
            INSERT INTO demo_offsets (consumer_group, topic, partition, next_offset)
            SELECT $1, t, p, o FROM unnest($2::text[], $3::int4[], $4::int8[]) AS u(t, p, o)
            ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = excluded.next_offset
            """, [group, entries.map(\.key.topic), entries.map { Int64($0.key.partition) }, entries.map(\.value)])
    }
}
