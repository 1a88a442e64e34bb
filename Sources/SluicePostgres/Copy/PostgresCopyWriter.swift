import CLibPQ

/// Buffers COPY data and hands it to libpq in chunks (`PQputCopyData`).
/// Only exists inside a `copyIn` closure, on the connection's own thread — or detached from any connection,
/// keeping everything in its buffer (``PostgresBinaryCopyEncoder/detached(capacity:)``).
package struct PostgresCopyWriter {
    /// 256 KiB: large enough to amortise the per-call cost, small enough to stream.
    package static let defaultChunkSize = 256 * 1024

    package var buffer: PostgresEncodingBuffer
    /// nil: detached, nothing is ever sent.
    let connection: OpaquePointer?
    let chunkSize: Int
    /// Bytes handed to libpq so far.
    package private(set) var bytesSent = 0

    init(connection: OpaquePointer, chunkSize: Int) {
        self.connection = connection
        self.chunkSize = max(chunkSize, 1024)
        self.buffer = PostgresEncodingBuffer(capacity: self.chunkSize + 64 * 1024)
    }

    init(detachedCapacity capacity: Int) {
        connection = nil
        chunkSize = .max
        buffer = PostgresEncodingBuffer(capacity: capacity)
    }

    /// Appends raw bytes (e.g. a line of text-format COPY).
    package mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.writeBytes(bytes)
        try flushIfNeeded()
    }

    /// Appends UTF-8 text as is (text/CSV COPY: include the `\n`).
    package mutating func write(_ text: String) throws {
        buffer.writeString(text)
        try flushIfNeeded()
    }

    /// Appends one row in COPY's text format: fields separated by tabs,
    /// `nil` as `\N`, and backslash, tab, newline and carriage return escaped.
    package mutating func writeTextRow(_ fields: [String?]) throws {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            guard let field else {
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(UInt8(ascii: "N"))
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeInteger(UInt8(ascii: "\\")); buffer.writeInteger(byte)
                case UInt8(ascii: "\t"): buffer.writeInteger(UInt8(ascii: "\\")); buffer.writeInteger(UInt8(ascii: "t"))
                case UInt8(ascii: "\n"): buffer.writeInteger(UInt8(ascii: "\\")); buffer.writeInteger(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): buffer.writeInteger(UInt8(ascii: "\\")); buffer.writeInteger(UInt8(ascii: "r"))
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
        try flushIfNeeded()
    }

    /// Sends the buffer once it holds at least a chunk.
    @inline(__always)
    package mutating func flushIfNeeded() throws {
        if buffer.count >= chunkSize { try flush() }
    }

    /// Sends everything buffered.
    package mutating func flush() throws {
        guard let connection, buffer.count > 0 else { return }
        let status = buffer.withUnsafeReadableBytes { bytes in
            PQputCopyData(connection, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == 1 else {
            throw PostgresError(
                code: PQstatus(connection) == CONNECTION_OK ? .protocolViolation : .connectionLost,
                message: "sending COPY data failed: \(String(cString: PQerrorMessage(connection)))")
        }
        bytesSent += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}
