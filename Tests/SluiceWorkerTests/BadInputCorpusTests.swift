import Foundation
import SluiceConfiguration
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka
import SluicePostgres
import SluiceWorker
import Testing

/// Issue 9, item 6: a corpus of malformed events, one or more per category, interleaved with good ones on one
/// partition, through a running worker. Every bad event must land on the dead-letter topic with its original bytes
/// and the expected reason, every good one in the feature log, the stored offsets must reach the end of the topic
/// (the worker never stopped), and entity ids holding SQL, quotes, backslashes and unicode must round-trip exactly.
///
/// `WorkerTests` already shows that every reason code comes from some malformed event of the demo generator; this
/// test pins the reason of each named category instead.
@Suite("Bad input corpus", .serialized, .timeLimit(.minutes(5)))
struct BadInputCorpusTests {
    /// One corpus entry: the payload and, for a bad one, the reason the dead letter must carry.
    struct Entry {
        var name: String
        var value: [UInt8]
        var reason: String?
    }

    /// The issue asks for 10 MB; this one-partition corpus cannot hold one on the mock broker, which caps a partition at
    /// about 5 MiB (`aTenMegabyteEventIsDeadLetteredAsOversizedAndTheWorkerGoesOn` covers 10 MB). The corpus uses 2 MB;
    /// the test producer and the worker's producer raise `message.max.bytes` to 16 MB.
    static let hugePayloadBytes = 2 * 1_024 * 1_024

    /// Entity ids a careless SQL builder would break; each goes through as a good event.
    static let awkwardEntities = [
        "o'brien; DROP TABLE entities;--",
        #"Robert'); DELETE FROM feature_log WHERE ''=''; --"#,
        #"back\slash "quoted" \'mixed'"#,
        "$1 $$dollar$$ %s %% ?",
        "ユーザー-ß-🦊",
        "tab\tand\nnewline",
    ]

    static func corpus(nowMillis: Int64) -> [Entry] {
        var time = nowMillis - 600_000
        func good(_ entity: String) -> Entry {
            time += 1_000
            return Entry(name: "good \(entity)", value: json(["user_id": entity, "ts": time, "event_id": "e\(time)", "amount": 12.5, "merchant": "m1", "country": "DE"]), reason: nil)
        }
        func raw(_ text: String) -> [UInt8] { Array(text.utf8) }
        let fields = #""ts": \#(nowMillis - 300_000), "amount": 1.5, "merchant": "m", "country": "FR""#
        var deep = ""
        for _ in 0..<100 { deep += "[" }
        for _ in 0..<100 { deep += "]" }
        let padding = String(repeating: "x", count: hugePayloadBytes)

        let bad: [Entry] = [
            Entry(name: "truncated JSON", value: raw(#"{"user_id": "u1", "ts": "#), reason: "invalid_json"),
            Entry(name: "not JSON", value: raw("user_id=u1&amount=3"), reason: "invalid_json"),
            Entry(name: "empty payload", value: [], reason: "invalid_json"),
            Entry(name: "trailing garbage", value: raw(#"{"user_id": "u1", \#(fields)} }"#), reason: "invalid_json"),
            Entry(name: "top-level array", value: raw("[1, 2, 3]"), reason: "not_object"),
            Entry(name: "invalid UTF-8 in a string", value: raw(#"{"user_id": "u"#) + [0xFF, 0xFE] + raw(#"", \#(fields)}"#), reason: "invalid_utf8"),
            Entry(name: "overlong UTF-8", value: raw(#"{"user_id": "u1", "merchant": ""#) + [0xC0, 0xAF] + raw(#"", "ts": \#(nowMillis - 300_000), "amount": 1.5, "country": "FR"}"#), reason: "invalid_utf8"),
            Entry(name: "string for a double", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": "12.5", "merchant": "m", "country": "FR"}"#), reason: "wrong_type"),
            Entry(name: "number for a string", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": 1, "merchant": 7, "country": "FR"}"#), reason: "wrong_type"),
            Entry(name: "string for a bool", value: raw(#"{"user_id": "u1", \#(fields), "card_present": "yes"}"#), reason: "wrong_type"),
            Entry(name: "object as entity", value: raw(#"{"user_id": {"id": 1}, \#(fields)}"#), reason: "wrong_type"),
            Entry(name: "missing entity", value: raw(#"{\#(fields)}"#), reason: "missing_entity"),
            Entry(name: "null entity", value: raw(#"{"user_id": null, \#(fields)}"#), reason: "missing_entity"),
            Entry(name: "empty entity", value: raw(#"{"user_id": "", \#(fields)}"#), reason: "missing_entity"),
            Entry(name: "missing required field", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "merchant": "m", "country": "FR"}"#), reason: "missing_field"),
            Entry(name: "bare NaN", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": NaN, "merchant": "m", "country": "FR"}"#), reason: "invalid_json"),
            Entry(name: "bare Infinity", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": Infinity, "merchant": "m", "country": "FR"}"#), reason: "invalid_json"),
            Entry(name: "bare -Infinity", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": -Infinity, "merchant": "m", "country": "FR"}"#), reason: "invalid_json"),
            Entry(name: "NaN as a string", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": "NaN", "merchant": "m", "country": "FR"}"#), reason: "wrong_type"),
            Entry(name: "1e400", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": 1e400, "merchant": "m", "country": "FR"}"#), reason: "invalid_number"),
            Entry(name: "-1e400", value: raw(#"{"user_id": "u1", "ts": \#(nowMillis - 300_000), "amount": -1e400, "merchant": "m", "country": "FR"}"#), reason: "invalid_number"),
            Entry(name: "entity beyond Int64", value: raw(#"{"user_id": 123456789012345678901234567890, \#(fields)}"#), reason: "invalid_number"),
            Entry(name: "timestamp beyond year 9999", value: raw(#"{"user_id": "u1", "ts": 1e300, "amount": 1.5, "merchant": "m", "country": "FR"}"#), reason: "invalid_timestamp"),
            Entry(name: "timestamp not a date", value: raw(#"{"user_id": "u1", "ts": "yesterday", "amount": 1.5, "merchant": "m", "country": "FR"}"#), reason: "invalid_timestamp"),
            Entry(name: "timestamp far in the future", value: raw(#"{"user_id": "u1", "ts": "9999-12-31T23:59:59Z", "amount": 1.5, "merchant": "m", "country": "FR"}"#), reason: "future_timestamp"),
            Entry(name: "timestamp far in the past", value: raw(#"{"user_id": "u1", "ts": "0001-01-01T00:00:00Z", "amount": 1.5, "merchant": "m", "country": "FR"}"#), reason: "late"),
            Entry(name: "epoch zero", value: raw(#"{"user_id": "u1", "ts": 0, "amount": 1.5, "merchant": "m", "country": "FR"}"#), reason: "late"),
            Entry(name: "nesting 100 deep", value: raw(#"{"user_id": "u1", \#(fields), "extra": \#(deep)}"#), reason: "invalid_json"),
            Entry(name: "2 MiB payload", value: raw(#"{"user_id": "u1", \#(fields), "pad": "\#(padding)"}"#), reason: "oversized"),
        ]

        // Good events first (so "far in the past" is late against an established watermark), then bad and good
        // alternating, with every awkward entity id among the good ones.
        var entries = [good("warm-up-1"), good("warm-up-2")]
        var goodEntities = awkwardEntities + (0..<bad.count).map { "plain-\($0)" }
        for entry in bad {
            entries.append(entry)
            entries.append(good(goodEntities.removeFirst()))
        }
        entries += goodEntities.map(good)
        return entries
    }

    static func json(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    @Test func everyBadEventIsDeadLetteredWithItsReasonAndEveryGoodOneIsProcessed() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let corpus = Self.corpus(nowMillis: now)

        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: environment.brokers)
        producerConfiguration.maxMessageBytes = 16_000_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: WorkerEnvironment.logger)
        var reports: [KafkaDeliveryReport] = []
        for entry in corpus {  // one by one, so offsets follow the corpus order
            reports.append(try await producer.send(KafkaProducerMessage(topic: environment.topic, key: Array(entry.name.utf8), value: entry.value)))
        }
        try await producer.close()
        let byOffset = Dictionary(uniqueKeysWithValues: zip(reports.map(\.offset), corpus))

        let yaml = environment.yaml.replacingOccurrences(
            of: "consumer: {session_timeout: 6s, poll_batch_size: 500}",
            with: "consumer: {session_timeout: 6s, poll_batch_size: 500}\n  producer: {max_message_bytes: 16MB}")
        let setup = try WorkerSetup(config: try SluiceConfig.load(yamlText: yaml, environment: [:]).config)
        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        let running = Task { try await worker.run() }
        let observer = try await environment.connect()
        // The worker never stops: its stored offsets reach the end of the topic.
        try await environment.waitUntilCaughtUp(observer, timeout: .seconds(90))
        await worker.stop()
        try await running.value

        let bad = corpus.filter { $0.reason != nil }
        let letters = try await environment.consume(environment.topic + ".dlq", count: bad.count)
        #expect(letters.count == bad.count)
        var seen: Set<Int64> = []
        for letter in letters {
            let headers = Dictionary(letter.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
            let offset = try #require(headers["sluice.source.offset"].flatMap(Int64.init))
            let entry = try #require(byOffset[offset], "dead letter for offset \(offset)")
            seen.insert(offset)
            #expect(entry.reason != nil, "good event '\(entry.name)' was dead-lettered: \(headers["sluice.error"] ?? "")")
            #expect(headers["sluice.error.reason"] == entry.reason, "\(entry.name): \(headers["sluice.error"] ?? "")")
            #expect(headers["sluice.error"]?.hasPrefix(entry.reason ?? "?") == true, "\(entry.name): a readable reason, got \(headers["sluice.error"] ?? "nil")")
            #expect(headers["sluice.source.topic"] == environment.topic)
            #expect(headers["sluice.source.partition"] == "0")
            #expect(Array(letter.value) == entry.value, "\(entry.name): the original bytes (\(entry.value.count)), got \(letter.value.count) bytes")
            #expect(letter.key.map(Array.init) == Array(entry.name.utf8), "\(entry.name): the original key")
        }
        let missing = bad.filter { entry in !seen.contains(byOffset.first { $0.value.name == entry.name }!.key) }.map(\.name)
        #expect(missing.isEmpty, "not dead-lettered: \(missing)")

        // Every good event has its feature-log row, at its own offset.
        let goodOffsets = Set(byOffset.filter { $0.value.reason == nil }.keys)
        let rows = try await observer.query("SELECT source_offset FROM \(environment.schema).feature_log WHERE source_partition = 0")
        let logged = try rows.map { try $0.decode(Int64.self, column: 0) }
        #expect(logged.count == goodOffsets.count, "one log row per good event")
        #expect(Set(logged) == goodOffsets)
        #expect(worker.counts.processed == goodOffsets.count)
        #expect(worker.counts.deadLettered.values.reduce(0, +) == bad.count)

        // Entity ids with quotes, semicolons, backslashes and unicode round-trip exactly.
        let stored = try await environment.storedFeatures(observer)
        for entity in Self.awkwardEntities {
            #expect(stored[entity] != nil, "entity \(entity.debugDescription) in the entities table; have \(stored.keys.filter { !$0.hasPrefix("plain-") }.sorted())")
            #expect(stored[entity]?["amount"] == .double(12.5))
        }
        let tables = try await observer.query("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('entities', 'feature_log')", [environment.schema])
        #expect(try tables.first?.decode(Int64.self, column: 0) == 2, "no table was dropped")

        await connection.close()
        await reader.close()
        await observer.close()
    }

    /// The outcome of one bad event between two good ones (`before` at offset 0, `after` at offset 2).
    struct Sandwich {
        var bad: [UInt8]
        var stored: [String: [String: FieldValue]]
        var letter: KafkaMessage?
        var headers: [String: String]
    }

    /// Produces `before`, the event `bad(entity:offset:pad:)` makes at offset 1, and `after` to a one-partition
    /// topic (with a producer allowing 16 MB); runs an in-process worker with the default 1 MB producer limit until
    /// it has caught up; returns the stored features and offset 1's dead letter.
    private func runBetweenGoodEvents(_ bad: (_ event: (String, Int64, Int) -> [UInt8]) -> [UInt8]) async throws -> Sandwich {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        func event(_ entity: String, _ offset: Int64, _ pad: Int) -> [UInt8] {
            Array(#"{"user_id": "\#(entity)", "ts": \#(now - 60_000 + offset), "amount": 1.5, "merchant": "m", "country": "DE", "pad": "\#(String(repeating: "x", count: pad))"}"#.utf8)
        }
        let middle = bad(event)
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: environment.brokers)
        producerConfiguration.maxMessageBytes = 16_000_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: WorkerEnvironment.logger)
        _ = try await producer.sendBatch([event("before", 0, 0), middle, event("after", 2, 0)].map {
            KafkaProducerMessage(topic: environment.topic, key: nil, value: $0)
        })
        try await producer.close()
        let config = try environment.config()
        #expect(config.kafka.producer.maxMessageBytes == 1_000_000)
        let (_, observer) = try await environment.runWorkerUntilCaughtUp(config: config)
        let stored = try await environment.storedFeatures(observer)
        func headers(_ letter: KafkaMessage) -> [String: String] {
            Dictionary(letter.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
        }
        let letter = try await environment.consume(environment.topic + ".dlq", count: 1).first { headers($0)["sluice.source.offset"] == "1" }
        await observer.close()
        return Sandwich(bad: middle, stored: stored, letter: letter, headers: letter.map(headers) ?? [:])
    }

    /// An event larger than the producer's `message.max.bytes` (default 1 MB), whose dead letter cannot be produced
    /// whole, must not stop the worker: its dead letter carries the first bytes that fit and the original size.
    @Test func anEventTooLargeForTheProducerIsDeadLetteredTruncatedAndTheWorkerGoesOn() async throws {
        let run = try await runBetweenGoodEvents { event in event("big", 1, 2_000_000) }
        #expect(run.stored["before"] != nil && run.stored["after"] != nil)
        let bigLetter = try #require(run.letter)
        let big = run.bad
        #expect(run.headers["sluice.error.reason"] == "oversized")
        #expect(run.headers["sluice.payload.truncated"] == String(big.count), "the original size")
        #expect(run.headers["sluice.error"]?.contains("payload truncated from \(big.count) to") == true)
        #expect(bigLetter.value.count < 1_000_000 && bigLetter.value.count > 990_000, "as much as fits: \(bigLetter.value.count) bytes")
        #expect(Array(bigLetter.value) == Array(big.prefix(bigLetter.value.count)), "the first bytes of the original")
    }

    /// A 10 MB event (the size the issue names) between good events. The mock broker caps a partition at about
    /// 5 MiB: appending a message set larger than that to a partition that holds anything deletes the older sets and
    /// leaves the new one below the log start (unreadable), so the 10 MB event goes first into a partition of its own;
    /// the good events share the other partition. A real broker keeps what its retention says.
    @Test func aTenMegabyteEventIsDeadLetteredAsOversizedAndTheWorkerGoesOn() async throws {
        let environment = try await WorkerEnvironment(partitions: 2)
        defer { Task { try? await environment.dropSchema() } }
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        func event(_ entity: String, _ pad: Int) -> [UInt8] {
            Array(#"{"user_id": "\#(entity)", "ts": \#(now - 60_000), "amount": 1.5, "merchant": "m", "country": "DE", "pad": "\#(String(repeating: "x", count: pad))"}"#.utf8)
        }
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: environment.brokers)
        producerConfiguration.maxMessageBytes = 16_000_000
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: WorkerEnvironment.logger)
        let huge = event("huge", 10 * 1_024 * 1_024)
        _ = try await producer.send(KafkaProducerMessage(topic: environment.topic, partition: 0, value: event("before", 0)))
        let hugeReport = try await producer.send(KafkaProducerMessage(topic: environment.topic, partition: 1, value: huge))
        _ = try await producer.send(KafkaProducerMessage(topic: environment.topic, partition: 0, value: event("after", 0)))
        try await producer.close()

        let (worker, observer) = try await environment.runWorkerUntilCaughtUp(config: try environment.config())
        let stored = try await environment.storedFeatures(observer)
        #expect(stored["before"] != nil && stored["after"] != nil, "the good events are processed")
        #expect(stored["huge"] == nil)
        #expect(worker.counts.deadLettered == ["oversized": 1])
        let letters = try await environment.consume(environment.topic + ".dlq", count: 1)
        let headers = Dictionary(letters.first?.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) } ?? [], uniquingKeysWith: { a, _ in a })
        #expect(headers["sluice.source.partition"] == "1" && headers["sluice.source.offset"] == String(hugeReport.offset))
        #expect(headers["sluice.error.reason"] == "oversized")
        #expect(headers["sluice.payload.truncated"] == String(huge.count), "the dead letter says the original size")
        #expect(letters.first.map { Array($0.value) == Array(huge.prefix($0.value.count)) } == true, "and holds its first bytes")
    }

    /// An entity id with U+0000, which JSON allows (`"\u0000"`) and PostgreSQL `text` does not, is dead-lettered
    /// (`missing_entity`: no usable entity) instead of stopping the worker with SQLSTATE 22021 on every restart.
    @Test func anEntityIDHoldingANULCharacterIsDeadLetteredAndTheWorkerGoesOn() async throws {
        let run = try await runBetweenGoodEvents { event in event(#"nul\u0000inside"#, 1, 0) }
        #expect(run.stored["before"] != nil && run.stored["after"] != nil)
        #expect(run.letter.map { Array($0.value) } == run.bad, "the NUL event is dead-lettered whole")
        #expect(run.headers["sluice.error.reason"] == "missing_entity")
        #expect(run.headers["sluice.error"]?.contains("U+0000") == true)
    }
}
