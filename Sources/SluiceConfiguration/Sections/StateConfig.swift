/// `state:` — the worker's in-memory cache of entity states (the store in PostgreSQL holds them all).
package struct StateConfig: Hashable, Sendable {
    /// `cache_max_entities`: most entity states kept in memory. Past it, the least recently used ones whose
    /// state is committed are dropped, down to 90 % of this, and reloaded from PostgreSQL on their next event.
    package var cacheMaxEntities: Int = 50_000
    /// `new_entity_filter`: keep a Bloom filter of the entity keys the store holds for this worker's partitions
    /// (read after each assignment), so that a new entity's first event does not wait for a PostgreSQL lookup
    /// that would find nothing. Off: every cache miss is looked up.
    package var newEntityFilter = true

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> StateConfig {
        var c = StateConfig()
        c.cacheMaxEntities = m.value("cache_max_entities", default: c.cacheMaxEntities, .integer(100...1_000_000_000))
        c.newEntityFilter = m.value("new_entity_filter", default: c.newEntityFilter, .bool)
        return c
    }
}
