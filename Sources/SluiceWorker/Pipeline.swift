import Foundation
import SluiceConfiguration
import Logging
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka

/// The worker's in-memory side: decoding, lateness, entity state and the pending micro-batch. Used from the
/// worker's single consumer loop, so it needs no locking; partitions are processed in offset order.
struct Pipeline {
    struct CachedEntity {
        var state: EntityState
        var partition: KafkaTopicPartition
        /// The micro-batch (``Pipeline/generation``) that last applied an event to it or restored it.
        var lastUsed: UInt64
        /// 1 + the round of entity writes (``Pipeline/writeRound``) whose list holds it (0: none yet).
        var listedIn: UInt64 = 0
    }

    struct PartitionState {
        var epoch: Int64
        var tracker: LatenessTracker
    }

    /// What the next flush writes.
    struct Pending {
        var batch = FeatureStoreBatch()
        var deadLetters: [KafkaProducerMessage] = []
        var reasons: [String: Int] = [:]
        var nextOffsets: [KafkaTopicPartition: Int64] = [:]
        var count = 0
        /// The numeric feature values of each log row (`featureNames.count` per row; NaN for strings and
        /// nulls, 0/1 for bools), row-major: the model input.
        var rows: [Double] = []
        /// The string features' values of each log row, row-major (for the drift monitor).
        var strings: [String?] = []
        /// When each poll batch of these events arrived (uptime nanoseconds) and how many events it held: the
        /// start of the end-to-end latency.
        var consumedAt: [(nanos: UInt64, events: Int)] = []
        /// The batch's number (``Pipeline/evictColdEntities(keepingFrom:)``), set when it is taken.
        var generation: UInt64 = 0
        /// The log rows' features JSON, run `i` row `i`'s: one buffer for the micro-batch, not one allocation per
        /// row. `takePending()` gives each row its slice of it.
        var features = ByteRuns()
    }

    let setup: WorkerSetup
    let logger: Logger
    /// Watches the scored features; fed by the worker's flush.
    var drift: DriftMonitor
    private var entities: [String: CachedEntity] = [:]
    /// The open micro-batch's number; it grows by one each time a batch is taken.
    private var generation: UInt64 = 0
    /// The entities events were applied to since the last ``takeEntityWrites()``, each once: the entity rows of the
    /// next transaction. An entity touched by several of its micro-batches is read and serialized once, not once
    /// per micro-batch.
    private var unwritten: [String] = []
    /// The current round of entity writes; it grows by one each time ``takeEntityWrites()`` takes the list.
    private var writeRound: UInt64 = 0
    /// Entities missing from the cache when an event came (looked up in the store, or known new by the key
    /// filter) since last read.
    private var misses = 0
    /// Cache misses the key filter answered without a lookup (new entities) since last read.
    private var skippedLookups = 0
    /// The keys the store may hold for this worker's partitions: those stored when each was claimed, and every
    /// entity this worker has applied since (`state.new_entity_filter`; nil when off). A key it lacks has no state
    /// in the store that this worker may use, so its first event starts from an empty state without a lookup.
    private var knownKeys: EntityKeyFilter?
    private var partitions: [KafkaTopicPartition: PartitionState] = [:]
    private var pending = Pending()
    private var pendingSince: UInt64 = 0
    /// Partitions a state restore found claimed by another worker, for the worker to fence at its next flush.
    private var fenced: [KafkaTopicPartition] = []
    private var output: [FieldValue] = []
    private var json = JSONOutputWriter()
    /// `{"name":` / `,"name":` for each feature, escaped once.
    private let keyPrefixes: [[UInt8]]
    /// The poll batch's decoded events: `decoded[0..<decodedCount]` (message index, event). The entries are kept
    /// between batches and decoded into in place, so an event's values reuse the buffer of the entry's last one.
    private var decoded: [(index: Int, event: DecodedEvent)] = []

    init(setup: WorkerSetup, logger: Logger) {
        self.setup = setup
        self.logger = logger
        self.drift = DriftMonitor(settings: setup.drift, featureNames: setup.featureNames, stringFeatures: setup.stringFeatures)
        self.knownKeys = setup.config.state.newEntityFilter ? EntityKeyFilter() : nil
        var writer = JSONOutputWriter()
        self.keyPrefixes = setup.featureNames.enumerated().map { index, name in
            writer.reset()
            writer.string(name)
            return Array((index == 0 ? "{" : ",").utf8) + writer.bytes + Array(":".utf8)
        }
    }

    var pendingCount: Int { pending.count }

    /// The entity states held in memory.
    var cachedEntities: Int { entities.count }

    /// The cache misses since the last call, and how many of them the key filter answered without a lookup.
    mutating func takeCacheMisses() -> (misses: Int, skippedLookups: Int) {
        defer { (misses, skippedLookups) = (0, 0) }
        return (misses, skippedLookups)
    }

    /// Whether the key filter is on: the worker then reads each claimed partition's stored keys into it.
    var filtersNewEntities: Bool { knownKeys != nil }

    /// Adds keys the store holds (read after a claim) to the key filter.
    mutating func addStoredKeys(_ keys: [String]) {
        guard knownKeys != nil else { return }
        for key in keys { knownKeys!.insert(key) }
    }

    /// Keys in the filter, and its size in bytes (0, 0 when off).
    var knownKeysSize: (keys: Int, bytes: Int) { knownKeys.map { ($0.count, $0.memoryBytes) } ?? (0, 0) }

    /// Keeps the entity cache within `state.cache_max_entities`: once past it, drops the least recently used
    /// entities down to 90 % of it. Only entities untouched since micro-batch `uncommitted` can go: call it when
    /// every batch before that one has committed, so their state in the store is their latest and a later miss
    /// restores it exactly.
    /// - Returns: how many entities were dropped.
    mutating func evictColdEntities(keepingFrom uncommitted: UInt64) -> Int {
        let limit = setup.config.state.cacheMaxEntities
        guard entities.count > limit else { return 0 }
        let protected = min(uncommitted, generation)
        var byBatch: [UInt64: Int] = [:]
        for entry in entities.values where entry.lastUsed < protected { byBatch[entry.lastUsed, default: 0] += 1 }
        var excess = entities.count - (limit - limit / 10)
        var newestDropped: UInt64? = nil
        for batch in byBatch.keys.sorted() where excess > 0 {
            newestDropped = batch
            excess -= byBatch[batch]!
        }
        guard let newestDropped else { return 0 }
        // Removed in place: filtering would rebuild the whole dictionary, copying every entity that stays.
        var dropped: [String] = []
        for (entity, entry) in entities where entry.lastUsed <= newestDropped { dropped.append(entity) }
        for entity in dropped { entities.removeValue(forKey: entity) }
        return dropped.count
    }

    var pendingAgeMillis: Int64 {
        pending.count == 0 ? 0 : Int64((DispatchTime.now().uptimeNanoseconds - pendingSince) / 1_000_000)
    }

    /// Takes ownership of a partition: its epoch and its lateness watermark; its entities reload from the store.
    mutating func assign(_ partition: KafkaTopicPartition, epoch: Int64, maxEventTimeMillis: Int64?) {
        partitions[partition] = PartitionState(epoch: epoch, tracker: LatenessTracker(maxEventTimeMillis: maxEventTimeMillis ?? .min))
        entities = entities.filter { $0.value.partition != partition }
    }

    /// Forgets partitions and their cached entities (another worker owns them now).
    mutating func revoke(_ revoked: [KafkaTopicPartition]) {
        let set = Set(revoked)
        for partition in set { partitions[partition] = nil }
        entities = entities.filter { !set.contains($0.value.partition) }
    }

    /// Decodes, validates and featurizes a batch into the pending micro-batch. Entity states missing from the
    /// cache are loaded from the store in one query first.
    mutating func process(_ batch: KafkaMessageBatch, store: FeatureStore) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        let arrived = DispatchTime.now().uptimeNanoseconds
        let rowsBefore = pending.batch.logRows.count
        if pending.count == 0 { pendingSince = arrived }
        defer {
            let rows = pending.batch.logRows.count - rowsBefore
            if rows > 0 { pending.consumedAt.append((arrived, rows)) }
        }
        var decodedCount = 0
        var misses: [String: KafkaTopicPartition] = [:]
        // A poll batch holds runs of messages from one partition: its ownership and next offset are looked up and
        // stored once per run, not once per message.
        var run: (tp: KafkaTopicPartition, owned: Bool, next: Int64)? = nil
        for index in batch.indices {
            let message = batch[index]
            let tp = message.topicPartition
            if run?.tp != tp {
                if let previous = run, previous.owned { pending.nextOffsets[previous.tp] = previous.next }
                run = (tp, partitions[tp] != nil, 0)
            }
            guard run!.owned else { continue }
            pending.count += 1
            run!.next = message.offset + 1
            if decodedCount == decoded.count { decoded.append((index, DecodedEvent())) }
            let slot = decodedCount
            if let error = message.withUnsafeValue({ setup.decoder.decode($0, nowMillis: now, into: &decoded[slot].event) }) {
                deadLetter(message, reason: error.reason.rawValue, description: error.description)
                continue
            }
            decoded[slot].index = index
            decodedCount += 1
            let entity = decoded[slot].event.entityID
            // `index(forKey:)`, not `entities[id] == nil`: the subscript would copy the cached state out to compare it.
            if entities.index(forKey: entity) == nil, misses[entity] == nil { misses[entity] = tp }
        }
        if let previous = run, previous.owned { pending.nextOffsets[previous.tp] = previous.next }
        if !misses.isEmpty { try await restore(misses, store: store) }
        applyDecoded(batch, count: decodedCount)
    }

    /// Applies the poll batch's decoded events (`decoded[0..<count]`) to their entities and adds their log rows and
    /// model inputs to the pending micro-batch. Synchronous: inside the async `process` the per-event closures and
    /// copies would be boxed on the heap.
    private mutating func applyDecoded(_ batch: KafkaMessageBatch, count decodedCount: Int) {
        let lateness = setup.allowedLatenessMillis
        // The partition of the current run of events, taken out of `partitions` while the run lasts (one lookup
        // per run) and put back when it ends; nil when the partition is not owned (fenced by the restore).
        var current: (tp: KafkaTopicPartition, state: PartitionState?)? = nil
        func endRun() {
            if let run = current, let state = run.state { partitions[run.tp] = state }
            current = nil
        }
        for slot in 0..<decodedCount {
            let index = decoded[slot].index
            let message = batch[index]
            let tp = message.topicPartition
            if current?.tp != tp {
                endRun()
                current = (tp, partitions[tp])
            }
            // Fenced by the restore: another worker owns the partition now.
            guard current!.state != nil else { continue }
            if current!.state!.tracker.isLate(decoded[slot].event.eventTimeMillis, allowedLatenessMillis: lateness) {
                let watermark = current!.state!.tracker.watermark(allowedLatenessMillis: lateness)
                deadLetter(message, reason: "late", description: "late: event time \(formatRFC3339(millis: decoded[slot].event.eventTimeMillis)) is before the watermark \(formatRFC3339(millis: watermark)) of \(tp) (allowed lateness \(lateness) ms)")
                continue
            }
            current!.state!.tracker.observe(decoded[slot].event.eventTimeMillis)
            // Found or added through the entry's index (`entities[id, default: …]` allocates a closure per event).
            var entry = entities.index(forKey: decoded[slot].event.entityID)
            if entry == nil {
                entities[decoded[slot].event.entityID] = CachedEntity(state: setup.engine.makeState(), partition: tp, lastUsed: generation)
                entry = entities.index(forKey: decoded[slot].event.entityID)
            }
            if Self.apply(decoded[slot].event, from: tp, in: generation, round: writeRound, engine: setup.engine,
                          to: &entities.values[entry!], output: &output) {
                unwritten.append(decoded[slot].event.entityID)
            }
            pending.batch.logRows.append(FeatureStoreBatch.LogRow(
                topic: tp.topic, partition: tp.partition, offset: message.offset, entity: decoded[slot].event.entityID, eventID: decoded[slot].event.eventID,
                eventTimeMillis: decoded[slot].event.eventTimeMillis, featuresJSON: []))
            Self.appendFeaturesJSON(output, prefixes: keyPrefixes, json: &json, to: &pending.features.bytes)
            pending.features.endRun()
            for (value, isString) in zip(output, setup.stringFeatures) {
                switch value {
                case .double(let d): pending.rows.append(d)
                case .int(let i): pending.rows.append(Double(i))
                case .bool(let b): pending.rows.append(b ? 1 : 0)
                case .string, .null: pending.rows.append(.nan)
                }
                if isString {
                    if case .string(let text) = value { pending.strings.append(text) } else { pending.strings.append(nil) }
                }
            }
        }
        endRun()
    }

    /// Applies an event to its entity's cached state and marks the entry as used by this micro-batch and owned by
    /// the event's partition, through one lookup of the entity.
    /// - Returns: whether the entry is not yet listed for this round of entity writes (`round`); it is now, and the
    ///   caller adds it to the list.
    private static func apply(_ event: DecodedEvent, from partition: KafkaTopicPartition, in generation: UInt64, round: UInt64,
                              engine: FeatureEngine, to entry: inout CachedEntity, output: inout [FieldValue]) -> Bool {
        engine.apply(event, to: &entry.state, output: &output)
        entry.partition = partition
        entry.lastUsed = generation
        let unlisted = entry.listedIn != round &+ 1
        entry.listedIn = round &+ 1
        return unlisted
    }

    /// Hands over the pending micro-batch, with each partition's next offset, watermark base and epoch.
    mutating func takePending() -> Pending {
        var taken = pending
        pending = Pending()
        // Sized like the batch just taken: growing from empty would copy every array about twice over.
        pending.batch.logRows.reserveCapacity(taken.batch.logRows.count)
        pending.rows.reserveCapacity(taken.rows.count)
        pending.strings.reserveCapacity(taken.strings.count)
        pending.features.reserveCapacity(like: taken.features)
        // Each log row gets its slice of the batch's features buffer (no copy; the slices share it).
        for (row, features) in taken.features.takeRuns().enumerated() { taken.batch.logRows[row].featuresJSON = features }
        taken.generation = generation
        generation += 1
        for (tp, next) in taken.nextOffsets.sorted(by: { $0.key < $1.key }) {
            guard let state = partitions[tp] else { continue }
            let max = state.tracker.maxEventTimeMillis
            taken.batch.offsets.append(FeatureStoreBatch.OffsetWrite(
                topic: tp.topic, partition: tp.partition, nextOffset: next,
                maxEventTimeMillis: max == .min ? nil : max, epoch: state.epoch))
        }
        return taken
    }

    /// The rows for the entities events were applied to since the last call, each once: state (old tiles evicted) and
    /// the features as of the entity's latest event. Call it on a micro-batch boundary, when every applied event is in
    /// a batch already taken (`takePending()`) — the transaction that writes these rows must hold exactly those
    /// batches, or a state would run ahead of its offsets.
    mutating func takeEntityWrites() -> [FeatureStoreBatch.EntityWrite] {
        precondition(pending.batch.logRows.isEmpty, "entity writes are taken on a micro-batch boundary")
        let dirty = unwritten
        unwritten = []
        unwritten.reserveCapacity(dirty.count)
        let listed = writeRound &+ 1
        writeRound += 1
        // The states and the features JSON go into two buffers for the whole batch, each write a slice of them.
        var states = ByteRuns()
        var features = ByteRuns()
        var written: [(entity: String, owner: KafkaTopicPartition, latest: Int64)] = []
        written.reserveCapacity(dirty.count)
        let lateness = setup.allowedLatenessMillis
        for entity in dirty {
            // Through the entry's index: one hash per entity, and the entry is used in place, never copied out.
            // An entry is written once: marked unlisted when written, so a key listed twice (an entity dropped and
            // applied again in one round) is not written twice — one upsert may not touch a row twice.
            guard let index = entities.index(forKey: entity), entities.values[index].listedIn == listed else { continue }
            entities.values[index].listedIn = 0
            guard let (owner, latest) = Self.stateToWrite(&entities.values[index], partitions: partitions, lateness: lateness,
                                                          engine: setup.engine, output: &output, into: &states.bytes) else { continue }
            states.endRun()
            Self.appendFeaturesJSON(output, prefixes: keyPrefixes, json: &json, to: &features.bytes)
            features.endRun()
            written.append((entity, owner, latest))
        }
        return zip(written, zip(states.takeRuns(), features.takeRuns())).map { write, runs in
            FeatureStoreBatch.EntityWrite(entity: write.entity, topic: write.owner.topic, partition: write.owner.partition,
                                          eventTimeMillis: write.latest, featuresJSON: runs.1, state: runs.0)
        }
    }

    /// Evicts an entity's tiles older than its partition's watermark, puts its values as of its latest event in
    /// `output` and appends its serialized state to `bytes`; nil when its partition is no longer owned.
    private static func stateToWrite(_ entry: inout CachedEntity, partitions: [KafkaTopicPartition: PartitionState], lateness: Int64,
                                     engine: FeatureEngine, output: inout [FieldValue], into bytes: inout [UInt8]) -> (KafkaTopicPartition, Int64)? {
        guard let partition = partitions[entry.partition] else { return nil }
        entry.state.evict(olderThan: partition.tracker.watermark(allowedLatenessMillis: lateness))
        let latest = entry.state.latestEventTimeMillis
        engine.values(of: entry.state, asOf: latest, output: &output)
        entry.state.serialize(into: &bytes)
        return (entry.partition, latest)
    }

    /// Partitions a state restore found claimed by another worker since this one claimed them (reported once): the
    /// worker must drop their pending work, predictions included — they would be computed from another worker's
    /// later state. The pipeline has already forgotten them.
    mutating func takeFenced() -> [KafkaTopicPartition] {
        defer { fenced = [] }
        return fenced
    }

    /// Loads the missing entities' states, checking in the same read that this worker still owns their partitions
    /// (a zombie resumed after its partitions moved would otherwise apply its events on top of the new owner's
    /// later state). Partitions found claimed by another worker are revoked and reported by `takeFenced()`.
    ///
    /// Entities the key filter has never seen are not looked up: the store holds no state of theirs that this
    /// worker may use. Their partitions' previous owners stored nothing for them before this worker's claim (the
    /// keys read after it would hold them), and since the claim only this worker has applied their events. A
    /// zombie is no exception: a key its filter lacks had no event at the offsets it has processed, so the new
    /// owner, replaying from the zombie's last commit, has an empty state for it at the same offset too, and
    /// both compute the same features and score.
    private mutating func restore(_ misses: [String: KafkaTopicPartition], store: FeatureStore) async throws {
        self.misses += misses.count
        var misses = misses
        if knownKeys != nil {
            let asked = misses.count
            misses = misses.filter { entity, _ in
                defer { knownKeys!.insert(entity) }
                return knownKeys!.mayContain(entity)
            }
            skippedLookups += asked - misses.count
            guard !misses.isEmpty else { return }
        }
        let owning = Set(misses.values).compactMap { tp in partitions[tp].map { (topic: tp.topic, partition: tp.partition, epoch: $0.epoch) } }
        let (stored, lost) = try await StoreRetry.run("the state restore", logger: logger) {
            try await store.loadStates(Array(misses.keys), owning: owning)
        }
        if !lost.isEmpty {
            let revoked = lost.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) }
            logger.error("state restore fenced: another worker owns these partitions now; their pending work is dropped",
                         metadata: ["partitions": "\(revoked)"])
            revoke(revoked)
            fenced += revoked
        }
        let engine = setup.engine
        for row in stored {
            guard let partition = misses[row.entity], partitions[partition] != nil else { continue }
            if row.featureSet != setup.featureSet {
                logger.warning("stored state was written for a different feature set; the entity starts afresh",
                               metadata: ["entity": "\(row.entity)"])
                continue
            }
            do {
                let state = try EntityState(deserializing: row.state[...], engine: engine)
                entities[row.entity] = CachedEntity(state: state, partition: partition, lastUsed: generation)
            } catch {
                logger.error("stored entity state is unreadable; the entity starts afresh", metadata: ["entity": "\(row.entity)", "error": "\(error)"])
            }
        }
    }

    /// Appends the features as a JSON object (`prefixes`: each feature's `{"name":` / `,"name":`).
    private static func appendFeaturesJSON(_ values: [FieldValue], prefixes: [[UInt8]], json: inout JSONOutputWriter, to bytes: inout [UInt8]) {
        for (prefix, value) in zip(prefixes, values) {
            bytes += prefix
            switch value {
            case .double(let d) where d.isFinite: JSONNumberText.append(d, to: &bytes)
            case .int(let i): JSONNumberText.append(i, to: &bytes)
            default:
                // Strings (escaped), booleans, null, and non-finite doubles (null).
                json.reset()
                json.value(value)
                bytes += json.bytes
            }
        }
        bytes.append(values.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: "}"))
        if values.isEmpty { bytes.append(UInt8(ascii: "}")) }
    }

    private mutating func deadLetter(_ message: KafkaMessage, reason: String, description: String) {
        pending.reasons[reason, default: 0] += 1
        pending.deadLetters.append(DeadLetter.message(to: setup.deadLetterTopic(for: message.topic), from: message, reason: reason, description: description,
                                                           maxMessageBytes: setup.config.kafka.producer.maxMessageBytes))
    }
}
