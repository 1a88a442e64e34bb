/// Writes serialized state into memory the caller sized beforehand (no capacity or uniqueness checks per
/// byte); the caller guarantees that everything written fits.
struct RawStateWriter: StateSink {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    @inline(__always) mutating func byte(_ b: UInt8) {
        precondition(count < capacity, "serialized state exceeds its computed size bound")
        base[count] = b
        count += 1
    }

    @inline(__always) mutating func append(_ raw: UnsafeRawBufferPointer) {
        precondition(count + raw.count <= capacity, "serialized state exceeds its computed size bound")
        if let source = raw.baseAddress {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: raw.count)
        }
        count += raw.count
    }
}
