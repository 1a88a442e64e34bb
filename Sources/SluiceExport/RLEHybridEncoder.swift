/// Encodes Parquet definition levels of bit width 1 with the RLE /
/// bit-packed hybrid encoding.
///
/// Runs of 8 or more equal levels become RLE runs (`varint(count << 1)`,
/// then the value in one byte); everything else is bit-packed in groups of
/// eight (`varint(groups << 1 | 1)`, then one byte per group, least
/// significant bit first). The last group is zero-padded; readers stop at the
/// page's value count.
enum RLEHybridEncoder {
    /// Appends the encoding of `levels` (each byte 0 or 1) to `output`.
    static func encodeBitWidth1(_ levels: UnsafeRawBufferPointer, into output: inout ByteBuffer) {
        let count = levels.count
        var index = 0
        while index < count {
            let run = runLength(levels, from: index)
            if run >= 8 {
                output.appendVarint(UInt64(run) << 1)
                output.append(levels[index])
                index += run
                continue
            }
            // Bit-pack groups of 8 until a long run starts at a group boundary.
            var end = index
            repeat {
                end = min(end + 8, count)
            } while end < count && runLength(levels, from: end, atLeast: 16) < 16
            let values = end - index
            let groups = (values + 7) / 8
            output.appendVarint(UInt64(groups) << 1 | 1)
            var position = index
            for _ in 0..<groups {
                var packed: UInt8 = 0
                for bit in 0..<8 where position + bit < end {
                    packed |= (levels[position + bit] & 1) << UInt8(bit)
                }
                output.append(packed)
                position += 8
            }
            index = end
        }
    }

    /// The number of equal bytes starting at `start`, stopping early once `atLeast` is reached.
    @inline(__always)
    private static func runLength(_ levels: UnsafeRawBufferPointer, from start: Int, atLeast limit: Int = Int.max) -> Int {
        let value = levels[start]
        var end = start + 1
        while end < levels.count && levels[end] == value && end - start < limit {
            end += 1
        }
        return end - start
    }
}
