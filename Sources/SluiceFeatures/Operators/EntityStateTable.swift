/// Entity states keyed by entity id in one open-addressing hash table: the per-event entity lookup.
///
/// A replacement for `[String: EntityState]` on the hot path. Each id is hashed once per lookup with
/// XXH64 of its UTF-8 bytes (a fraction of the cost of `String`'s `Hasher`); the hash is stored beside
/// the id, so probing compares 32-bit tags, a full id comparison happens only on a tag match, and
/// growing never rehashes a string. Id, hash and state sit side by side in one dense array, so a hit
/// touches one slot word and one entry. The hash seed is random per table (as `Hasher`'s is per
/// process), so crafted ids cannot force long probe sequences. Ids are compared by their UTF-8 bytes,
/// like the feature store's text keys (a `Dictionary` would merge canonically equivalent spellings
/// such as "é" and "e\u{301}" into one entity).
///
/// Indices are dense, `0 ..< count`, in insertion order, and change only in `removeAll(where:)`, which
/// keeps the survivors' order and returns their old indices, so a caller can keep per-entity data of
/// its own in a parallel array. Nothing about the order is part of any feature value.
///
/// Use on the event path (here with the worker's partition per entity in a parallel array):
///
/// ```swift
/// var entities = EntityStateTable(engine: engine, minimumCapacity: 100_000)
/// var partitionOf: [KafkaTopicPartition] = []   // parallel to `entities`
/// var output: [FieldValue] = []
/// // per decoded, non-late event:
/// let (i, inserted) = entities.findOrInsert(event.entityID)
/// if inserted { partitionOf.append(tp) } else { partitionOf[i] = tp }
/// engine.apply(event, to: &entities[i], output: &output)      // in place: the state is not copied
/// // restoring a stored state:
/// let j = entities.set(try EntityState(deserializing: bytes[...], engine: engine), for: entityID)
/// // after a micro-batch, per dirty index i:
/// entities[i].evict(olderThan: watermark)
/// // on revocation:
/// let kept = entities.removeAll { revoked.contains(partitionOf[$0]) }
/// partitionOf = kept.map { partitionOf[$0] }
/// ```
package struct EntityStateTable: Sendable {
    /// One entity: its id, the id's hash under this table's seed, and its state.
    struct Entry: Sendable {
        var hash: UInt64
        var id: String
        var state: EntityState
    }

    /// The engine whose empty state new entities get.
    package let engine: FeatureEngine
    /// Open-addressing slots (linear probing): 0 = empty, else `tag | (entry index + 1)` with `tag` the
    /// hash's upper 32 bits. Capacity is a power of two, at most half full.
    private var slots: [UInt64]
    private var entries: [Entry] = []
    private var mask: Int
    /// XXH64 seed of this table.
    private let seed: UInt64
    /// `MemoryLayout<Entry>.offset(of: \Entry.state)`, read once (a `static let` costs a `swift_once`
    /// check per use).
    private let stateOffset = Self.entryStateOffset

    /// Creates an empty table with room for `minimumCapacity` entities before it grows.
    ///
    /// - Parameters:
    ///   - engine: new entities start with `engine.makeState()`.
    ///   - seed: the hash seed; random when nil (pass one only for reproducible tests).
    package init(engine: FeatureEngine, minimumCapacity: Int = 0, seed: UInt64? = nil) {
        self.engine = engine
        let capacity = Self.slotCapacity(for: minimumCapacity)
        slots = Array(repeating: 0, count: capacity)
        mask = capacity - 1
        entries.reserveCapacity(minimumCapacity)
        var generator = SystemRandomNumberGenerator()
        self.seed = seed ?? generator.next()
    }

    /// The smallest power of two (at least 16) that holds `count` entries at most half full.
    private static func slotCapacity(for count: Int) -> Int {
        var capacity = 16
        while capacity < 2 * count { capacity <<= 1 }
        return capacity
    }

    /// Number of entities.
    package var count: Int { entries.count }
    /// Whether the table holds no entity.
    package var isEmpty: Bool { entries.isEmpty }
    /// The valid indices, `0 ..< count`.
    package var indices: Range<Int> { 0..<entries.count }

    @inline(__always)
    private func hash(_ entityID: String) -> UInt64 {
        XXHash64.hash(entityID, seed: seed)
    }

    /// Whether two ids have the same UTF-8 bytes. Entities are told apart by their bytes (as the feature
    /// store's text keys are), not by `String ==`, which equates canonically equivalent spellings.
    ///
    /// Two strings with the same bits hold the same bytes (the same inline small string, or the same
    /// storage object), so the usual hit — the event's small id against the stored one — compares two
    /// words instead of copying both strings into buffers.
    @inline(__always)
    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        if MemoryLayout<String>.size == 16 && rawBits(a) == rawBits(b) { return true }
        return sameBytesSlow(a, b)
    }

    /// The two words of a `String` value, read in place (no copy, so no retain).
    @inline(__always)
    private static func rawBits(_ s: String) -> SIMD2<UInt64> {
        withUnsafeBytes(of: s) { SIMD2($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self)) }
    }

    @inline(never)
    private static func sameBytesSlow(_ a: String, _ b: String) -> Bool {
        if a.utf8.count != b.utf8.count { return false }
        var a = a
        var b = b
        return a.withUTF8 { x in b.withUTF8 { y in Self.equal(UnsafeRawBufferPointer(x), UnsafeRawBufferPointer(y)) } }
    }

    /// Byte equality of two buffers of the same length, a word at a time.
    @inline(__always)
    private static func equal(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = x.count
        while i + 8 <= n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if x[i] != y[i] { return false }
            i += 1
        }
        return true
    }

    /// The slot holding `entityID` (`found`), or the empty slot where it would go.
    @inline(__always)
    private func probe(_ entityID: String, hash: UInt64) -> (slot: Int, found: Bool) {
        let tag = hash & 0xFFFF_FFFF_0000_0000
        return slots.withUnsafeBufferPointer { s in
            entries.withUnsafeBufferPointer { e in
                var i = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let word = s[i]
                    if word == 0 { return (i, false) }
                    if word & 0xFFFF_FFFF_0000_0000 == tag {
                        let entry = Int(truncatingIfNeeded: word & 0xFFFF_FFFF) - 1
                        // An entry spans two or three lines: ask for the state's (its array references,
                        // read next by `apply`) while the one with the id is being loaded.
                        let state = UnsafeRawPointer(e.baseAddress! + entry) + stateOffset
                        prefetch(state + 16)
                        prefetch(state + MemoryLayout<EntityState>.size - 1)
                        if e[entry].hash == hash && Self.sameBytes(e[entry].id, entityID) { return (i, true) }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    private func entryIndex(inSlot slot: Int) -> Int {
        Int(truncatingIfNeeded: slots[slot] & 0xFFFF_FFFF) - 1
    }

    /// The index of `entityID`, or nil when it is not in the table.
    package func index(of entityID: String) -> Int? {
        let (slot, found) = probe(entityID, hash: hash(entityID))
        return found ? entryIndex(inSlot: slot) : nil
    }

    /// The index of `entityID`, inserting an empty state (`engine.makeState()`) first when it is missing.
    ///
    /// - Returns: the entity's index and whether this call inserted it.
    package mutating func findOrInsert(_ entityID: String) -> (index: Int, inserted: Bool) {
        let h = hash(entityID)
        let (slot, found) = probe(entityID, hash: h)
        if found { return (entryIndex(inSlot: slot), false) }
        return (insertNew(entityID, hash: h, slot: slot, state: engine.makeState()), true)
    }

    /// Finds or inserts the entities of a whole micro-batch, overlapping their memory accesses: all ids
    /// are hashed and their slots prefetched first, then the candidate entries, then each lookup runs
    /// on cached lines. Same results as calling `findOrInsert(_:)` for each id in order.
    ///
    /// - Parameters:
    ///   - count: number of ids.
    ///   - id: the id at a position `0 ..< count`.
    ///   - indices: receives each id's entity index (`count` elements).
    /// - Returns: how many entities were inserted.
    @discardableResult
    package mutating func findOrInsert(_ count: Int, id: (Int) -> String, into indices: UnsafeMutableBufferPointer<Int>) -> Int {
        lookUp(count, id: id, into: indices, inserting: true)
    }

    /// Finds the entities of a whole micro-batch, overlapping their memory accesses like
    /// `findOrInsert(_:id:into:)`, without inserting: a missing id gets index -1. Same results as calling
    /// `index(of:)` for each id.
    ///
    /// - Returns: how many ids were missing.
    @discardableResult
    package mutating func find(_ count: Int, id: (Int) -> String, into indices: UnsafeMutableBufferPointer<Int>) -> Int {
        lookUp(count, id: id, into: indices, inserting: false)
    }

    /// The batched lookup: inserts the missing ids when `inserting` (and returns how many), else gives them -1
    /// (and returns how many were missing).
    private mutating func lookUp(_ count: Int, id: (Int) -> String, into indices: UnsafeMutableBufferPointer<Int>, inserting: Bool) -> Int {
        precondition(indices.count >= count, "indices must hold one index per id")
        var missing = 0
        // The ids are all read before the table is, and the lookups run outside any closure: reading
        // `self` after calling the caller's closure, or from a closure, made the compiler copy the
        // whole table around each call (a retain and a release of every reference it holds).
        let seed = self.seed
        let mask = self.mask
        var ids: [String] = []
        ids.reserveCapacity(count)
        let hashes = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                let entityID = id(i)
                ids.append(entityID)
                buffer.initializeElement(at: i, to: XXHash64.hash(entityID, seed: seed))
            }
            initialized = count
        }
        hashes.withUnsafeBufferPointer { h in
            slots.withUnsafeBufferPointer { s in
                for i in 0..<count { prefetch(s.baseAddress! + (Int(truncatingIfNeeded: h[i]) & mask)) }
                entries.withUnsafeBufferPointer { e in
                    guard let entryBase = e.baseAddress else { return }
                    for i in 0..<count {
                        let word = s[Int(truncatingIfNeeded: h[i]) & mask]
                        if word != 0 { prefetch(entryBase + (Int(truncatingIfNeeded: word & 0xFFFF_FFFF) - 1)) }
                    }
                }
            }
        }
        for i in 0..<count {
            let (slot, found) = probe(ids[i], hash: hashes[i])
            if found {
                indices[i] = entryIndex(inSlot: slot)
            } else {
                indices[i] = inserting ? insertNew(ids[i], hash: hashes[i], slot: slot, state: engine.makeState()) : -1
                missing += 1
            }
        }
        return missing
    }

    /// Hints the CPU to load what `apply` reads of entity `index`'s state, without waiting for it.
    ///
    /// Issue stage 0 (the arrays' headers, the hot words, the kept values) a few events before applying
    /// to the entity and stage 1 (the newest cold records, the sketch pool's tail; it reads the counts
    /// stage 0 brought in) a couple of events later, e.g. stage 0 at distance 2d and stage 1 at d.
    /// The entry itself is in cache after `findOrInsert`.
    ///
    /// `mutating` although it changes nothing: callers hold the table `inout` while they apply, and
    /// a non-mutating call on it from their closures copied the whole table for the call (a retain
    /// and a release of each of its references, ≈ 10 % of the batched path's time); a mutating one
    /// takes it by reference.
    package mutating func prefetchState(at index: Int, stage: Int = 0) {
        entries.withUnsafeBufferPointer { e in
            let entry = UnsafeRawPointer(e.baseAddress! + index)
            EntityState.prefetchLines(ofStateAt: entry + stateOffset, plan: engine.plan, stage: stage)
        }
    }

    private static let entryStateOffset = MemoryLayout<Entry>.offset(of: \Entry.state)!

    /// Stores `state` for `entityID`, replacing any state it had.
    ///
    /// - Returns: the entity's index.
    @discardableResult
    package mutating func set(_ state: EntityState, for entityID: String) -> Int {
        let h = hash(entityID)
        let (slot, found) = probe(entityID, hash: h)
        if found {
            let index = entryIndex(inSlot: slot)
            entries[index].state = state
            return index
        }
        return insertNew(entityID, hash: h, slot: slot, state: state)
    }

    private mutating func insertNew(_ entityID: String, hash h: UInt64, slot: Int, state: EntityState) -> Int {
        precondition(entries.count < Int(UInt32.max) - 1, "EntityStateTable holds at most 2^32 − 2 entities")
        let index = entries.count
        entries.append(Entry(hash: h, id: entityID, state: state))
        if 2 * entries.count > slots.count {
            rebuildSlots(capacity: slots.count * 2)
        } else {
            slots[slot] = h & 0xFFFF_FFFF_0000_0000 | UInt64(index + 1)
        }
        return index
    }

    /// Rebuilds the slots for the current entries from their stored hashes.
    private mutating func rebuildSlots(capacity: Int) {
        var fresh = [UInt64](repeating: 0, count: capacity)
        let m = capacity - 1
        entries.withUnsafeBufferPointer { e in
            fresh.withUnsafeMutableBufferPointer { s in
                for index in e.indices {
                    let h = e[index].hash
                    var i = Int(truncatingIfNeeded: h) & m
                    while s[i] != 0 { i = (i + 1) & m }
                    s[i] = h & 0xFFFF_FFFF_0000_0000 | UInt64(index + 1)
                }
            }
        }
        slots = fresh
        mask = m
    }

    /// The state at `index`: read it, or mutate it in place (`engine.apply(event, to: &table[i], …)`)
    /// without copying it.
    ///
    /// Mutation goes through an addressor, not a `_modify` coroutine: called from another module, a
    /// coroutine yielding through the array's own needs a larger frame than the caller's fixed buffer, so
    /// every access malloc'ed and freed one (≈ 200 instructions per event). The address is taken after
    /// `withUnsafeMutableBufferPointer` made the storage unique; it stays valid for the access because
    /// the caller holds exclusive access to the table, so nothing can resize or share `entries` meanwhile.
    package subscript(index: Int) -> EntityState {
        get { entries[index].state }
        unsafeMutableAddress {
            precondition(index >= 0 && index < entries.count, "EntityStateTable index \(index) out of range 0..<\(entries.count)")
            let entry = entries.withUnsafeMutableBufferPointer { $0.baseAddress! + index }
            return (UnsafeMutableRawPointer(entry) + stateOffset).assumingMemoryBound(to: EntityState.self)
        }
    }

    /// The state of `entityID`, or nil.
    package subscript(entityID: String) -> EntityState? {
        guard let index = index(of: entityID) else { return nil }
        return entries[index].state
    }

    /// The entity id at `index`.
    package func entityID(at index: Int) -> String { entries[index].id }

    /// Removes every entity whose index satisfies `shouldRemove`; the others keep their relative order.
    ///
    /// - Returns: the old indices of the kept entities, in their new order (new index `k` held old index
    ///   `kept[k]`), so a parallel array compacts as `array = kept.map { array[$0] }`.
    @discardableResult
    package mutating func removeAll(where shouldRemove: (Int) throws -> Bool) rethrows -> [Int] {
        var kept: [Int] = []
        kept.reserveCapacity(entries.count)
        for i in entries.indices where try !shouldRemove(i) { kept.append(i) }
        if kept.count == entries.count { return kept }
        var survivors: [Entry] = []
        survivors.reserveCapacity(kept.count)
        for i in kept { survivors.append(entries[i]) }
        entries = survivors
        rebuildSlots(capacity: Self.slotCapacity(for: entries.count))
        return kept
    }

    /// Removes every entity, keeping the allocated capacity.
    package mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = 0 }
    }
}
