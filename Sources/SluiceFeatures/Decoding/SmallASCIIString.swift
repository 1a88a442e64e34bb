/// Builds short ASCII strings directly in the standard library's small-string form.
///
/// A `String` of at most 15 UTF-8 bytes is stored inline in its two words (no allocation): on 64-bit
/// platforms the bytes in order (little-endian words), then, in the top byte of the second word, the
/// discriminator `0xE0` (immortal, small, ASCII) or'ed with the byte count. The public initializers
/// (`String(decoding:as:)`, `String(unsafeUninitializedCapacity:initializingUTF8With:)`) produce exactly
/// these bits but spend ≈ 170 instructions on a call, a closure and re-validation; the decoder has
/// already validated the bytes and builds four such strings per event.
///
/// The layout is not a public API, so it is checked once at run time (`isSupported`): strings built
/// by the standard library for samples of every length 1…15 must have exactly the bits this type
/// would build. If they do not (another layout), `make` returns nil and callers use the public
/// initializer; the result is the same `String` either way.
enum SmallASCIIString {
    /// Whether the standard library's small ASCII strings have the layout described above.
    static let isSupported: Bool = {
        guard MemoryLayout<String>.size == 16, MemoryLayout<UInt>.size == 8, UInt64(1).littleEndian == 1 else { return false }
        let sample = Array("u-0123456789AZaz".utf8)
        for length in 1...15 {
            let reference = sample.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[0..<length]), as: UTF8.self) }
            guard let built = sample.withUnsafeBufferPointer({ make($0.baseAddress!, count: length, readableEnd: $0.baseAddress! + $0.count) }) else { return false }
            let (r0, r1) = unsafeBitCast(reference, to: (UInt64, UInt64).self)
            let (b0, b1) = unsafeBitCast(built, to: (UInt64, UInt64).self)
            guard r0 == b0, r1 == b1, built.utf8.count == length, built.utf8.elementsEqual(reference.utf8) else { return false }
        }
        return true
    }()

    /// The string of the `count` (1…15) bytes at `p` when they are all ASCII, else nil. Bytes up to
    /// `readableEnd` may be read (whole words are loaded when 16 bytes are readable).
    @inline(__always)
    static func make(_ p: UnsafePointer<UInt8>, count: Int, readableEnd: UnsafePointer<UInt8>) -> String? {
        var w0: UInt64 = 0
        var w1: UInt64 = 0
        if readableEnd - p >= 16 {
            let raw = UnsafeRawPointer(p)
            w0 = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if count < 8 {
                w0 &= (1 &<< UInt64(8 * count)) &- 1
                w1 = 0
            } else {
                w1 &= (1 &<< UInt64(8 * (count - 8))) &- 1
            }
        } else {
            withUnsafeMutableBytes(of: &w0) { out in
                out.baseAddress!.copyMemory(from: p, byteCount: Swift.min(count, 8))
            }
            if count > 8 {
                withUnsafeMutableBytes(of: &w1) { out in
                    out.baseAddress!.copyMemory(from: p + 8, byteCount: count - 8)
                }
            }
            w0 = UInt64(littleEndian: w0)
            w1 = UInt64(littleEndian: w1)
        }
        guard (w0 | w1) & 0x8080_8080_8080_8080 == 0 else { return nil }
        w1 |= (0xE0 | UInt64(count)) &<< 56
        // Moved out of memory rather than `unsafeBitCast`: a cast result is a copy, which costs a
        // (no-op) runtime retain call; a move takes the bits as they are.
        var bits = (w0, w1)
        return withUnsafeMutablePointer(to: &bits) { $0.withMemoryRebound(to: String.self, capacity: 1) { $0.move() } }
    }
}
