extension HyperLogLog {
    /// Appends the sketch: varint(entries << 1 | dense), then entries as UInt16 LE or 768 packed bytes.
    func serialize<W: StateSink>(into w: inout W) {
        if isDense {
            w.varint(UInt64(Self.registerCount) << 1 | 1)
            dense.withUnsafeBufferPointer { d in
                var i = 0
                while i < d.count {
                    let packed = UInt32(d[i]) | UInt32(d[i + 1]) << 6 | UInt32(d[i + 2]) << 12 | UInt32(d[i + 3]) << 18
                    w.byte(UInt8(truncatingIfNeeded: packed))
                    w.byte(UInt8(truncatingIfNeeded: packed >> 8))
                    w.byte(UInt8(truncatingIfNeeded: packed >> 16))
                    i += 4
                }
            }
        } else {
            w.varint(UInt64(sparse.count) << 1)
            sparse.withUnsafeBufferPointer { entries in
                for e in entries { w.uint16(e) }
            }
        }
    }

    /// An upper bound of the bytes `serialize(into:)` writes.
    var serializedSizeBound: Int { 10 + (isDense ? 768 : 2 * sparse.count) }

    /// Reads a sketch written by `serialize(into:)`, validating order and ranks.
    init(reading r: inout StateReader) throws(EntityStateError) {
        self.init()
        let header = try r.varint()
        let count = header >> 1
        if header & 1 == 1 {
            guard count == UInt64(Self.registerCount) else { throw r.corrupt("dense sketch with \(count) registers, expected \(Self.registerCount)") }
            var registers = [UInt8](repeating: 0, count: Self.registerCount)
            var i = 0
            while i < Self.registerCount {
                let packed = UInt32(try r.byte()) | UInt32(try r.byte()) << 8 | UInt32(try r.byte()) << 16
                for j in 0..<4 {
                    let rank = UInt8(truncatingIfNeeded: (packed >> UInt32(6 * j)) & 63)
                    guard Int(rank) <= Self.maxRank else { throw r.corrupt("sketch rank \(rank) above \(Self.maxRank)") }
                    registers[i + j] = rank
                }
                i += 4
            }
            dense = registers
        } else {
            guard count <= UInt64(Self.sparseLimit) else { throw r.corrupt("sparse sketch with \(count) entries, at most \(Self.sparseLimit) expected") }
            var entries: [UInt16] = []
            entries.reserveCapacity(Int(count))
            var previous = -1
            for _ in 0..<Int(count) {
                let e = try r.uint16()
                let rank = Int(e & 63)
                guard Int(e >> 6) > previous, rank >= 1, rank <= Self.maxRank else {
                    throw r.corrupt("sparse sketch entries out of order or with an invalid rank")
                }
                previous = Int(e >> 6)
                entries.append(e)
            }
            sparse = entries
        }
    }
}
