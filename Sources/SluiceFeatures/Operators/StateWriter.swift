/// Appends little-endian primitives and LEB128 varints to a growing byte array (see `StateSink`).
struct StateWriter: StateSink {
    var bytes: [UInt8]

    @inline(__always) mutating func byte(_ b: UInt8) { bytes.append(b) }

    @inline(__always) mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}
