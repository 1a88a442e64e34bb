import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The size and SHA-256 of a file, read in 1 MiB blocks.
enum FileDigest {
    /// - Returns: the byte count and the lower-case hex SHA-256.
    /// - Throws: ``SnapshotError`` `.io` naming the file.
    static func sha256(path: String) throws -> (bytes: Int64, hex: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapshotError(.io, "cannot open \(path) to hash it: \(SnapshotDirectory.errnoText())") }
        defer { _ = close(fd) }
        var hasher = SHA256()
        var total: Int64 = 0
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, size)
            if count < 0 {
                if errno == EINTR { continue }
                throw SnapshotError(.io, "reading \(path) to hash it failed: \(SnapshotDirectory.errnoText())")
            }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += Int64(count)
        }
        return (total, hex(hasher.finalize()))
    }

    /// The lower-case hex SHA-256 of `bytes`.
    static func sha256(bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
