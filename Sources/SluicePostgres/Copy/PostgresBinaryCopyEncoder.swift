/// Writes PostgreSQL's binary COPY format straight from typed values:
/// signature `PGCOPY\n\377\r\n\0`, flags, header extension, then per row the
/// field count followed by each field's length and binary value (-1 for NULL),
/// and the trailer -1.
///
/// ```swift
/// try await conn.copyInBinary("COPY t (id, ts, v) FROM STDIN (FORMAT binary)") { encoder in
///     for i in 0..<n {
///         try encoder.beginRow(fieldCount: 3)
///         encoder.write(ids[i]); encoder.write(times[i]); encoder.write(values[i])
///     }
/// }
/// ```
package struct PostgresBinaryCopyEncoder {
    package var writer: PostgresCopyWriter
    private var fieldsLeft = 0
    /// Rows begun so far.
    package private(set) var rowCount = 0

    init(writer: PostgresCopyWriter) { self.writer = writer }

    /// An encoder bound to no connection: it keeps the rows in memory, to be encoded before the COPY starts
    /// (off the connection's critical path) and sent by ``PostgresConnection/copyInBinary(_:encoded:)``.
    package static func detached(capacity: Int = 64 * 1024) -> PostgresBinaryCopyEncoder {
        PostgresBinaryCopyEncoder(writer: PostgresCopyWriter(detachedCapacity: capacity))
    }

    /// The complete rows written to a detached encoder (without header and trailer).
    /// - Throws: `PostgresError` `.encoding` if the last row got fewer fields than it declared.
    package func encodedRows() throws -> PostgresBinaryCopyRows {
        guard fieldsLeft == 0 else { throw incompleteRow() }
        return PostgresBinaryCopyRows(buffer: writer.buffer, count: rowCount)
    }

    static let signature: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]

    mutating func writeHeader() {
        writer.buffer.writeBytes(Self.signature)
        writer.buffer.writeInteger(Int32(0))  // flags: no OIDs
        writer.buffer.writeInteger(Int32(0))  // header extension length
    }

    /// Starts a row of `fieldCount` fields; flushes a full chunk first.
    /// - Throws: `PostgresError` `.encoding` if the previous row got fewer fields than it declared.
    @inline(__always)
    package mutating func beginRow(fieldCount: Int) throws {
        guard fieldsLeft == 0 else { throw incompleteRow() }
        try writer.flushIfNeeded()
        writer.buffer.writeInteger(Int16(truncatingIfNeeded: fieldCount))
        fieldsLeft = fieldCount
        rowCount += 1
    }

    /// Writes one field in binary format.
    @inline(__always)
    package mutating func write<T: PostgresEncodable>(_ value: T) throws {
        try writer.buffer.writeLengthPrefixed(value)
        fieldsLeft -= 1
    }

    /// Writes one field or NULL.
    @inline(__always)
    package mutating func write<T: PostgresEncodable>(_ value: T?) throws {
        if let value { try write(value) } else { writeNull() }
    }

    @inline(__always)
    package mutating func write(_ value: Double) {
        writer.buffer.writeInteger(Int32(8))
        writer.buffer.writeInteger(value.bitPattern)
        fieldsLeft -= 1
    }

    @inline(__always)
    package mutating func write(_ value: Int64) {
        writer.buffer.writeInteger(Int32(8))
        writer.buffer.writeInteger(value)
        fieldsLeft -= 1
    }

    @inline(__always)
    package mutating func write(_ value: Int32) {
        writer.buffer.writeInteger(Int32(4))
        writer.buffer.writeInteger(value)
        fieldsLeft -= 1
    }

    /// Writes a timestamptz field; ±infinity included.
    @inline(__always)
    package mutating func write(_ value: PostgresTimestamp) throws {
        writer.buffer.writeInteger(Int32(8))
        try value.encode(into: &writer.buffer)
        fieldsLeft -= 1
    }

    /// Writes several float8 fields at once (e.g. a feature vector).
    package mutating func write(doubles: UnsafeBufferPointer<Double>) {
        writer.buffer.writeFloat8Fields(doubles)
        fieldsLeft -= doubles.count
    }

    /// Writes a text field. Like the other concrete overloads below, it spares callers in other modules the
    /// unspecialized generic `write` (a metadata lookup and witness calls per field).
    package mutating func write(_ value: String) throws {
        var value = value
        try value.withUTF8 { try write(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Writes a text field or NULL.
    package mutating func write(_ value: String?) throws {
        if let value { try write(value) } else { writeNull() }
    }

    /// Writes a float8 field or NULL.
    package mutating func write(_ value: Double?) {
        if let value { write(value) } else { writeNull() }
    }

    /// Writes an int4 field or NULL.
    package mutating func write(_ value: Int32?) {
        if let value { write(value) } else { writeNull() }
    }

    /// Writes one field of raw bytes: bytea, or text and json in their binary form (their UTF-8 text).
    @inline(__always)
    package mutating func write(bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count <= Int(Int32.max) else {
            throw PostgresError(code: .encoding, message: "a field of \(bytes.count) bytes does not fit binary COPY (at most \(Int32.max))")
        }
        writer.buffer.writeInteger(Int32(bytes.count))
        writer.buffer.writeBytes(bytes)
        fieldsLeft -= 1
    }

    /// Writes one field whose bytes `body` writes (text or bytea), its length filled in after.
    @inline(__always)
    package mutating func writeField(_ body: (inout PostgresEncodingBuffer) -> Void) throws {
        try writer.buffer.writeLengthPrefixed(described: "a field") { body(&$0) }
        fieldsLeft -= 1
    }

    @inline(__always)
    package mutating func writeNull() {
        writer.buffer.writeInteger(Int32(-1))
        fieldsLeft -= 1
    }

    mutating func finish() throws {
        guard fieldsLeft == 0 else { throw incompleteRow() }
        writer.buffer.writeInteger(Int16(-1))
    }

    private func incompleteRow() -> PostgresError {
        PostgresError(code: .encoding, message: "binary COPY row \(rowCount) declared a different field count than was written (\(fieldsLeft) left over)")
    }
}

/// Rows of binary COPY data encoded ahead of their COPY (``PostgresBinaryCopyEncoder/encodedRows()``).
package struct PostgresBinaryCopyRows: Sendable {
    let buffer: PostgresEncodingBuffer
    /// Rows held.
    package let count: Int
}
