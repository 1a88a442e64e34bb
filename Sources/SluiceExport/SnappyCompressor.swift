/// A compressor for the raw Snappy block format (what Parquet's SNAPPY codec
/// stores; not the framed stream format).
///
/// Output: the uncompressed length as a varint, then literal and copy
/// elements. Input is processed in 64 KiB blocks, each matched greedily
/// against a hash table of 4-byte sequences, so every copy offset fits in
/// two bytes. The compression ratio is close to the reference
/// implementation's on typical data; speed is what matters here.
struct SnappyCompressor: ~Copyable {
    private static let blockSize = 1 << 16
    private static let hashBits = 14
    private let table: UnsafeMutablePointer<UInt16>

    init() {
        table = UnsafeMutablePointer<UInt16>.allocate(capacity: 1 << Self.hashBits)
    }

    deinit {
        table.deallocate()
    }

    /// The largest output `compress` can produce for `length` input bytes.
    static func maxCompressedLength(_ length: Int) -> Int {
        32 + length + length / 6
    }

    /// Appends the compressed form of `input` to `output`.
    func compress(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer) {
        output.reserve(Self.maxCompressedLength(input.count))
        output.appendVarint(UInt64(input.count))
        guard let base = input.baseAddress, input.count > 0 else { return }
        var start = 0
        while start < input.count {
            let length = min(Self.blockSize, input.count - start)
            compressBlock(base + start, length, into: &output)
            start += length
        }
    }

    @inline(__always)
    private static func hash(_ value: UInt32) -> Int {
        Int((value &* 0x1e35_a7bd) >> UInt32(32 - hashBits))
    }

    private func compressBlock(_ p: UnsafeRawPointer, _ n: Int, into output: inout ByteBuffer) {
        var nextEmit = 0
        let inputMargin = 15
        if n >= inputMargin {
            table.initialize(repeating: 0, count: 1 << Self.hashBits)
            let limit = n - inputMargin
            var ip = 0
            var skip = 32
            while ip <= limit {
                let current = p.loadUnaligned(fromByteOffset: ip, as: UInt32.self)
                let slot = Self.hash(current)
                let candidate = Int(table[slot])
                table[slot] = UInt16(truncatingIfNeeded: ip)
                if candidate < ip && p.loadUnaligned(fromByteOffset: candidate, as: UInt32.self) == current {
                    if nextEmit < ip {
                        Self.emitLiteral(p + nextEmit, ip - nextEmit, into: &output)
                    }
                    var matched = 4
                    // Extend 8 bytes at a time while both sides have 8 bytes left.
                    while ip + matched + 8 <= n {
                        let a = p.loadUnaligned(fromByteOffset: ip + matched, as: UInt64.self)
                        let b = p.loadUnaligned(fromByteOffset: candidate + matched, as: UInt64.self)
                        let difference = a ^ b
                        if difference == 0 {
                            matched += 8
                        } else {
                            matched += difference.littleEndian.trailingZeroBitCount / 8
                            break
                        }
                    }
                    if ip + matched + 8 > n {
                        while ip + matched < n
                            && p.load(fromByteOffset: ip + matched, as: UInt8.self)
                                == p.load(fromByteOffset: candidate + matched, as: UInt8.self)
                        {
                            matched += 1
                        }
                    }
                    Self.emitCopy(offset: ip - candidate, length: matched, into: &output)
                    ip += matched
                    nextEmit = ip
                    skip = 32
                    if ip - 1 <= limit {
                        // Remember the position just before the next lookup too.
                        let previous = p.loadUnaligned(fromByteOffset: ip - 1, as: UInt32.self)
                        table[Self.hash(previous)] = UInt16(truncatingIfNeeded: ip - 1)
                    }
                } else {
                    // Step further the longer nothing matched (incompressible data).
                    ip += skip >> 5
                    skip += 1
                }
            }
        }
        if nextEmit < n {
            Self.emitLiteral(p + nextEmit, n - nextEmit, into: &output)
        }
    }

    private static func emitLiteral(_ source: UnsafeRawPointer, _ length: Int, into output: inout ByteBuffer) {
        let n = length - 1
        if n < 60 {
            output.append(UInt8(n) << 2)
        } else if n < 1 << 8 {
            output.append(60 << 2)
            output.append(UInt8(n))
        } else if n < 1 << 16 {
            output.append(61 << 2)
            output.appendLittleEndian(UInt16(n))
        } else if n < 1 << 24 {
            output.append(62 << 2)
            output.append(UInt8(truncatingIfNeeded: n))
            output.appendLittleEndian(UInt16(truncatingIfNeeded: n >> 8))
        } else {
            output.append(63 << 2)
            output.appendLittleEndian(UInt32(truncatingIfNeeded: n))
        }
        output.append(UnsafeRawBufferPointer(start: source, count: length))
    }

    private static func emitCopy(offset: Int, length: Int, into output: inout ByteBuffer) {
        var length = length
        while length >= 68 {
            emitCopyUpTo64(offset: offset, length: 64, into: &output)
            length -= 64
        }
        if length > 64 {
            emitCopyUpTo64(offset: offset, length: 60, into: &output)
            length -= 60
        }
        emitCopyUpTo64(offset: offset, length: length, into: &output)
    }

    @inline(__always)
    private static func emitCopyUpTo64(offset: Int, length: Int, into output: inout ByteBuffer) {
        if length < 12 && offset < 2048 {
            output.append(UInt8(1 | ((length - 4) << 2) | ((offset >> 8) << 5)))
            output.append(UInt8(truncatingIfNeeded: offset))
        } else {
            output.append(UInt8(2 | ((length - 1) << 2)))
            output.appendLittleEndian(UInt16(offset))
        }
    }
}
