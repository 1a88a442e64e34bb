/// A growable byte buffer with big-endian writers, used for parameter values
/// and COPY data. Reuse one buffer (`removeAll(keepingCapacity:)`) on hot paths.
package struct PostgresEncodingBuffer: Sendable {
    /// Zero-filled backing store; only the first `count` bytes are meaningful.
    /// Kept larger than `count` so writes are plain stores, not appends.
    private var storage: [UInt8]
    /// Bytes written so far.
    package private(set) var count = 0

    package init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: max(capacity, 0))
    }

    /// A copy of the written bytes (for inspection; O(n): hot paths use `withUnsafeReadableBytes`).
    package func copyBytes() -> [UInt8] { Array(storage[0..<count]) }

    package mutating func removeAll(keepingCapacity: Bool = true) {
        count = 0
        if !keepingCapacity { storage = [] }
    }

    /// Drops everything after the first `length` bytes.
    package mutating func truncate(to length: Int) {
        count = min(max(length, 0), count)
    }

    /// Calls `body` with the written bytes.
    package func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in try body(UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > storage.count { grow(to: count + extra) }
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        let size = Swift.max(needed, storage.count * 2, 256)
        storage.append(contentsOf: repeatElement(0, count: size - storage.count))
    }

    @inline(__always)
    package mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserve(size)
        let offset = count
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self) }
        count += size
    }

    package mutating func writeBytes(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        reserve(source.count)
        let offset = count
        storage.withUnsafeMutableBytes { raw in
            UnsafeMutableRawBufferPointer(rebasing: raw[offset..<(offset + source.count)]).copyMemory(from: UnsafeRawBufferPointer(start: base, count: source.count))
        }
        count += source.count
    }

    package mutating func writeBytes(_ source: [UInt8]) {
        source.withUnsafeBytes { writeBytes($0) }
    }

    package mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Writes each value as a float8 field of binary COPY (length 8, then the value).
    package mutating func writeFloat8Fields(_ values: UnsafeBufferPointer<Double>) {
        let size = values.count * 12
        reserve(size)
        let offset = count
        storage.withUnsafeMutableBytes { raw in
            var position = offset
            for value in values {
                raw.storeBytes(of: Int32(8).bigEndian, toByteOffset: position, as: Int32.self)
                raw.storeBytes(of: value.bitPattern.bigEndian, toByteOffset: position + 4, as: UInt64.self)
                position += 12
            }
        }
        count += size
    }

    /// Overwrites 4 bytes at `offset` with a big-endian Int32 (patching a length prefix).
    package mutating func setInt32(_ value: Int32, at offset: Int) {
        precondition(offset >= 0 && offset + 4 <= count, "setInt32 outside the written bytes")
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Int32.self) }
    }

    /// Writes a 4-byte length prefix followed by the value's binary encoding.
    package mutating func writeLengthPrefixed<T: PostgresEncodable>(_ value: T) throws {
        try writeLengthPrefixed(described: "value of \(T.self)") { try value.encode(into: &$0) }
    }

    /// Writes a 4-byte length prefix followed by what `write` writes (`what` names it in the error).
    package mutating func writeLengthPrefixed(described what: @autoclosure () -> String, _ write: (inout PostgresEncodingBuffer) throws -> Void) throws {
        let start = count
        writeInteger(Int32(0))
        try write(&self)
        let length = count - start - 4
        guard length <= Int(Int32.max) else {
            throw PostgresError(code: .encoding, message: "\(what()) is \(length) bytes; at most \(Int32.max) fit in one field")
        }
        setInt32(Int32(length), at: start)
    }

    /// Writes the header of a one-dimensional binary array of `count` elements (the elements follow, each with its
    /// length prefix, -1 for NULL).
    /// - Throws: `PostgresError` (`.encoding`) when `count` does not fit PostgreSQL's array size.
    package mutating func writeArrayHeader(elementType: PostgresDataType, count: Int, hasNulls: Bool = false) throws {
        guard count <= Int(Int32.max) else {
            throw PostgresError(code: .encoding, message: "array of \(count) elements is too long for PostgreSQL")
        }
        writeInteger(Int32(count == 0 ? 0 : 1))  // dimensions
        writeInteger(Int32(hasNulls ? 1 : 0))
        writeInteger(elementType.rawValue)
        if count == 0 { return }
        writeInteger(Int32(count))               // dimension size
        writeInteger(Int32(1))                   // lower bound
    }
}
