import SluiceFeatures

/// Serialized size of a set of entity states and the cost of writing and restoring them.
struct StateCost {
    let states: [EntityState]
    let engine: FeatureEngine
    /// Whether to time (de)serialization or only measure sizes.
    var timed = true

    func report(into report: inout Report, key: String, label: String) {
        var sizes: [Int] = []
        sizes.reserveCapacity(states.count)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        var blobs: [[UInt8]] = []
        blobs.reserveCapacity(states.count)
        let serialize = Timing.measure {
            for s in states {
                buffer.removeAll(keepingCapacity: true)
                s.serialize(into: &buffer)
                sizes.append(buffer.count)
            }
        }
        for s in states {
            var b: [UInt8] = []
            s.serialize(into: &b)
            blobs.append(b)
        }
        var restoredTiles = 0
        var failures = 0
        let deserialize = Timing.measure {
            for b in blobs {
                do {
                    let s = try EntityState(deserializing: b[...], engine: engine)
                    restoredTiles &+= s.tileCount
                } catch {
                    failures += 1
                }
            }
        }
        let sorted = sizes.sorted()
        guard !sorted.isEmpty else { return }
        let total = sorted.reduce(0, +)
        let average = Double(total) / Double(sorted.count)
        let p50 = sorted[sorted.count / 2]
        let p99 = sorted[sorted.count * 99 / 100]
        report.line("\(label): serialized state average \(format(average)) B/entity, p50 \(p50) B, p99 \(p99) B, max \(sorted.last ?? 0) B, total \(total / 1_048_576) MiB over \(sorted.count) entities (after eviction)")
        report.value("\(key)_avg_bytes", average)
        report.value("\(key)_p50_bytes", p50)
        report.value("\(key)_p99_bytes", p99)
        report.value("\(key)_max_bytes", sorted.last ?? 0)
        if failures > 0 { report.line("  restore failures: \(failures)") }
        guard timed else { return }
        report.line("  cold pass over all states: serialize \(format(serialize.cpu / Double(sizes.count) * 1e9)) ns/entity, deserialize \(format(deserialize.cpu / Double(sizes.count) * 1e9)) ns/entity")
        report.value("\(key)_serialize_ns", serialize.cpu / Double(sizes.count) * 1e9)
        report.value("\(key)_deserialize_ns", deserialize.cpu / Double(sizes.count) * 1e9)
        // Warm cost for one typical (median-size) entity: the CPU work without the cache misses of
        // visiting every state in a row (a checkpoint writes recently updated states).
        guard let typicalIndex = sizes.firstIndex(of: p50) else { return }
        let typical = states[typicalIndex]
        let typicalBytes = blobs[typicalIndex]
        let rounds = 200_000
        var sink = 0
        let warmSerialize = Timing.measure {
            for _ in 0..<rounds {
                buffer.removeAll(keepingCapacity: true)
                typical.serialize(into: &buffer)
                sink &+= buffer.count
            }
        }
        let warmDeserialize = Timing.measure {
            for _ in 0..<rounds {
                if let s = try? EntityState(deserializing: typicalBytes[...], engine: engine) { sink &+= s.tileCount }
            }
        }
        report.line("  typical entity (\(p50) B, \(typical.tileCount) tiles), warm: serialize \(format(warmSerialize.cpu / Double(rounds) * 1e9)) ns, deserialize \(format(warmDeserialize.cpu / Double(rounds) * 1e9)) ns (checksum \(sink &+ restoredTiles))")
        report.value("\(key)_typical_serialize_ns", warmSerialize.cpu / Double(rounds) * 1e9)
        report.value("\(key)_typical_deserialize_ns", warmDeserialize.cpu / Double(rounds) * 1e9)
    }
}
