import Foundation
import SluiceConfiguration
import Logging
import SluiceFeatureStore
import SluiceFeatures
import SluiceKafka

/// The worker's in-memory side: decoding, lateness, entity state and the pending micro-batch. Used from the
/// worker's single consumer loop, so it needs no locking; partitions are processed in offset order.
struct Pipeline {
    /// What the pipeline keeps beside each cached entity state, at the state's index in the table.
    struct CachedEntity {
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
    /// The cached entity states by entity id: the per-event lookup, the table `features-bench` measures.
    private var entities: EntityStateTable
    /// Each cached entity's partition and marks, at its index in `entities` (the two change together).
    private var cached: [CachedEntity] = []
    /// The open micro-batch's number; it grows by one each time a batch is taken.
    private var generation: UInt64 = 0
    /// The entities events were applied to since the last ``takeEntityWrites()``, each once: the entity rows of the
    /// next transaction. An entity touched by several of its micro-batches is read and serialized once, not once
    /// per micro-batch.
    private var unwritten: [Int] = []
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
    /// The poll batch's decoded events: `decoded[0..<decodedCount]` (message index, the entity's index in `entities`
    /// as the batch lookup found it or -1, event). The entries are kept between batches and decoded into in place,
    /// so an event's values reuse the buffer of the entry's last one.
    private var decoded: [(index: Int, entity: Int, event: DecodedEvent)] = []
    /// How many events ahead of the one being applied an entity state is prefetched (stage 1; stage 0 twice as far):
    /// the distance `features-bench --ahead` measures.
    private static let prefetchDistance = 4

    init(setup: WorkerSetup, logger: Logger) {
        self.setup = setup
        self.logger = logger
        self.drift = DriftMonitor(settings: setup.drift, featureNames: setup.featureNames, stringFeatures: setup.stringFeatures)
        self.knownKeys = setup.config.state.newEntityFilter ? EntityKeyFilter() : nil
        self.entities = EntityStateTable(engine: setup.engine, minimumCapacity: min(setup.config.state.cacheMaxEntities, 1 << 16))
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
        for entry in cached where entry.lastUsed < protected { byBatch[entry.lastUsed, default: 0] += 1 }
        var excess = entities.count - (limit - limit / 10)
        var newestDropped: UInt64? = nil
        for batch in byBatch.keys.sorted() where excess > 0 {
            newestDropped = batch
            excess -= byBatch[batch]!
        }
        guard let newestDropped else { return 0 }
        return removeEntities(cached.map { $0.lastUsed <= newestDropped })
    }

    /// Removes the cached entities whose `drop` is true, keeping `cached`, the unwritten list and the decoded events'
    /// indices in step with the table's new indices (a removed entity's events get -1: looked up again when applied).
    /// - Returns: how many were removed.
    private mutating func removeEntities(_ drop: [Bool]) -> Int {
        let before = entities.count
        let kept = entities.removeAll { drop[$0] }
        guard kept.count < before else { return 0 }
        var newIndex = [Int](repeating: -1, count: before)
        for (new, old) in kept.enumerated() { newIndex[old] = new }
        cached = kept.map { cached[$0] }
        unwritten = unwritten.compactMap { newIndex[$0] >= 0 ? newIndex[$0] : nil }
        for slot in decoded.indices where decoded[slot].entity >= 0 { decoded[slot].entity = newIndex[decoded[slot].entity] }
        assert(cached.count == entities.count, "one CachedEntity per state in the table")
        return before - kept.count
    }

    var pendingAgeMillis: Int64 {
        pending.count == 0 ? 0 : Int64((DispatchTime.now().uptimeNanoseconds - pendingSince) / 1_000_000)
    }

    /// Takes ownership of a partition: its epoch and its lateness watermark; its entities reload from the store.
    mutating func assign(_ partition: KafkaTopicPartition, epoch: Int64, maxEventTimeMillis: Int64?) {
        partitions[partition] = PartitionState(epoch: epoch, tracker: LatenessTracker(maxEventTimeMillis: maxEventTimeMillis ?? .min))
        _ = removeEntities(cached.map { $0.partition == partition })
    }

    /// Forgets partitions and their cached entities (another worker owns them now).
    mutating func revoke(_ revoked: [KafkaTopicPartition]) {
        let set = Set(revoked)
        for partition in set { partitions[partition] = nil }
        _ = removeEntities(cached.map { set.contains($0.partition) })
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
            if decodedCount == decoded.count { decoded.append((index, -1, DecodedEvent())) }
            let slot = decodedCount
            if let error = message.withUnsafeValue({ setup.decoder.decode($0, nowMillis: now, into: &decoded[slot].event) }) {
                deadLetter(message, reason: error.reason.rawValue, description: error.description)
                continue
            }
            decoded[slot].index = index
            decodedCount += 1
        }
        if let previous = run, previous.owned { pending.nextOffsets[previous.tp] = previous.next }
        // The batch's entities are looked up together (their memory accesses overlap); applying uses the indices (and
        // prefetches the states by them) without hashing again.
        let ids = (0..<decodedCount).map { decoded[$0].event.entityID }
        var found = [Int](repeating: -1, count: decodedCount)
        let missing = found.withUnsafeMutableBufferPointer { entities.find(ids.count, id: { ids[$0] }, into: $0) }
        for slot in 0..<decodedCount {
            decoded[slot].entity = found[slot]
            if missing > 0, found[slot] < 0, misses[ids[slot]] == nil { misses[ids[slot]] = batch[decoded[slot].index].topicPartition }
        }
        if !misses.isEmpty { try await restore(misses, store: store) }
        applyDecoded(batch, count: decodedCount)
    }

    /// Applies the poll batch's decoded events (`decoded[0..<count]`) to their entities and adds their log rows and
    /// model inputs to the pending micro-batch. Synchronous: inside the async `process` the per-event closures and
    /// copies would be boxed on the heap.
    ///
    /// Each state the batch lookup found is prefetched a few events before its event is applied, so its lines arrive
    /// while the events before it are applied.
    private mutating func applyDecoded(_ batch: KafkaMessageBatch, count decodedCount: Int) {
        let lateness = setup.allowedLatenessMillis
        let engine = setup.engine
        let ahead = Self.prefetchDistance
        for slot in 0..<min(2 * ahead, decodedCount) { prefetchState(ofSlot: slot, stage: 0) }
        for slot in 0..<min(ahead, decodedCount) { prefetchState(ofSlot: slot, stage: 1) }
        // The partition of the current run of events, taken out of `partitions` while the run lasts (one lookup
        // per run) and put back when it ends; nil when the partition is not owned (fenced by the restore).
        var current: (tp: KafkaTopicPartition, state: PartitionState?)? = nil
        func endRun() {
            if let run = current, let state = run.state { partitions[run.tp] = state }
            current = nil
        }
        for slot in 0..<decodedCount {
            if slot + 2 * ahead < decodedCount { prefetchState(ofSlot: slot + 2 * ahead, stage: 0) }
            if slot + ahead < decodedCount { prefetchState(ofSlot: slot + ahead, stage: 1) }
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
            // Missing at the batch lookup (restored since, new, or removed by a fencing restore): looked up, added when new.
            var entity = decoded[slot].entity
            if entity < 0 {
                let (found, inserted) = entities.findOrInsert(decoded[slot].event.entityID)
                if inserted { cached.append(CachedEntity(partition: tp, lastUsed: generation)) }
                entity = found
            }
            // The values borrowed from the batch's buffer: passing the event itself would copy it (a retain and release of
            // its strings and values per event).
            decoded[slot].event.values.withUnsafeBufferPointer { values in
                engine.apply(eventTime: decoded[slot].event.eventTimeMillis, values: values, to: &entities[entity], output: &output)
            }
            if Self.markApplied(&cached[entity], from: tp, in: generation, round: writeRound) { unwritten.append(entity) }
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

    /// Prefetches the state of `decoded[slot]`'s entity, when the batch lookup found it (`EntityStateTable.prefetchState`).
    private mutating func prefetchState(ofSlot slot: Int, stage: Int) {
        let entity = decoded[slot].entity
        if entity >= 0 { entities.prefetchState(at: entity, stage: stage) }
    }

    /// Marks an entity an event was just applied to as used by this micro-batch and owned by the event's partition.
    /// - Returns: whether the entity is not yet listed for this round of entity writes (`round`); it is now, and the
    ///   caller adds it to the list.
    private static func markApplied(_ entry: inout CachedEntity, from partition: KafkaTopicPartition, in generation: UInt64, round: UInt64) -> Bool {
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
        assert(cached.count == entities.count, "one CachedEntity per state in the table")
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
        for index in dirty {
            // The state is used in place, never copied out. An entity is written once: marked unlisted when written,
            // so an index listed twice is not written twice — one upsert may not touch a row twice.
            guard cached[index].listedIn == listed else { continue }
            cached[index].listedIn = 0
            guard let partition = partitions[cached[index].partition] else { continue }
            let latest = Self.stateToWrite(&entities[index], watermark: partition.tracker.watermark(allowedLatenessMillis: lateness),
                                           engine: setup.engine, output: &output, into: &states.bytes)
            states.endRun()
            Self.appendFeaturesJSON(output, prefixes: keyPrefixes, json: &json, to: &features.bytes)
            features.endRun()
            written.append((entities.entityID(at: index), cached[index].partition, latest))
        }
        return zip(written, zip(states.takeRuns(), features.takeRuns())).map { write, runs in
            FeatureStoreBatch.EntityWrite(entity: write.entity, topic: write.owner.topic, partition: write.owner.partition,
                                          eventTimeMillis: write.latest, featuresJSON: runs.1, state: runs.0)
        }
    }

    /// Evicts an entity's tiles older than its partition's watermark, puts its values as of its latest event in
    /// `output` and appends its serialized state to `bytes`.
    /// - Returns: the entity's latest event time.
    private static func stateToWrite(_ state: inout EntityState, watermark: Int64, engine: FeatureEngine, output: inout [FieldValue],
                                     into bytes: inout [UInt8]) -> Int64 {
        state.evict(olderThan: watermark)
        let latest = state.latestEventTimeMillis
        engine.values(of: state, asOf: latest, output: &output)
        state.serialize(into: &bytes)
        return latest
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
                let index = entities.set(state, for: row.entity)
                if index == cached.count {
                    cached.append(CachedEntity(partition: partition, lastUsed: generation))
                } else {
                    cached[index].partition = partition
                    cached[index].lastUsed = generation
                }
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
