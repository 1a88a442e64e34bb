/// Byte runs written one after another into one buffer, handed out as slices of it once it is complete (a
/// slice taken earlier would make the next append copy the whole buffer).
struct ByteRuns {
    /// Where the next run is written.
    var bytes: [UInt8] = []
    private var ends: [Int] = []

    /// Ends the run written to `bytes` since the previous one.
    mutating func endRun() { ends.append(bytes.count) }

    /// Room for as many runs and bytes as `other` holds.
    mutating func reserveCapacity(like other: ByteRuns) {
        bytes.reserveCapacity(other.bytes.count)
        ends.reserveCapacity(other.ends.count)
    }

    /// The runs in order, as slices of the buffer; leaves this empty.
    mutating func takeRuns() -> [ArraySlice<UInt8>] {
        var runs: [ArraySlice<UInt8>] = []
        runs.reserveCapacity(ends.count)
        var start = 0
        for end in ends {
            runs.append(bytes[start..<end])
            start = end
        }
        self = ByteRuns()
        return runs
    }
}
