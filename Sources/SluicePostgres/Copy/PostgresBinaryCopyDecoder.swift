/// Splits the data of a `COPY … TO STDOUT (FORMAT binary)` into rows, chunk by chunk, without copying values.
///
/// Feed it the chunks of a ``PostgresCopyOutReader`` in order; it checks the header, calls back once per row
/// with a ``PostgresBinaryCopyRow`` pointing into the chunk, and stops at the trailer. A row cut by the end of
/// a chunk is kept and completed by the next one (with `copyOut` chunks hold whole rows, so that never costs
/// a copy in practice).
package struct PostgresBinaryCopyDecoder {
    /// `PGCOPY\n\377\r\n\0`.
    static let signature: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]

    private var headerDone = false
    /// Bytes of an incomplete row (or header) left from the previous chunk.
    private var carry: [UInt8] = []
    /// Start offset and length (-1 for NULL) of each field of the current row.
    private var fields: [Int32] = []
    /// True once the trailer was read.
    package private(set) var isAtEnd = false
    /// Rows handed to callers so far.
    package private(set) var rowsDecoded = 0

    package init() {}

    /// Decodes every complete row in `chunk`, calling `body` with each, in order.
    /// - Throws: `PostgresError` `.protocolViolation` for data that is not binary COPY, or `body`'s error.
    package mutating func decode(_ chunk: [UInt8], _ body: (PostgresBinaryCopyRow) throws -> Void) throws {
        try chunk.withUnsafeBytes { try decode(bytes: $0, body) }
    }

    /// Decodes every complete row in `chunk`, calling `body` with each, in order. The rows' fields point into
    /// `chunk`, except for a row that began in the previous chunk (its fields point into a copy).
    /// - Throws: `PostgresError` `.protocolViolation` for data that is not binary COPY, or `body`'s error.
    package mutating func decode(bytes chunk: UnsafeRawBufferPointer, _ body: (PostgresBinaryCopyRow) throws -> Void) throws {
        if carry.isEmpty {
            let used = try decodeRows(chunk, body)
            if used < chunk.count { carry = Array(chunk[used...]) }
        } else {
            carry.append(contentsOf: chunk)
            let bytes = carry
            let used = try bytes.withUnsafeBytes { try decodeRows($0, body) }
            carry = used < bytes.count ? Array(bytes[used...]) : []
        }
    }

    /// Checks that the data ended cleanly: with the trailer and no partial row.
    /// - Throws: `PostgresError` `.protocolViolation` otherwise.
    package func finish() throws {
        guard isAtEnd else {
            throw Self.malformed(carry.isEmpty ? "the data ended without the trailer" : "the data ended inside a row (\(carry.count) bytes left)")
        }
    }

    /// Decodes the complete rows at the start of `bytes`; returns how many bytes they took.
    private mutating func decodeRows(_ bytes: UnsafeRawBufferPointer, _ body: (PostgresBinaryCopyRow) throws -> Void) throws -> Int {
        var position = 0
        let count = bytes.count
        if !headerDone {
            // Signature, flags (int32), header extension length (int32) and the extension.
            guard count >= 19 else { return 0 }
            guard Self.signature.indices.allSatisfy({ bytes[$0] == Self.signature[$0] }) else {
                throw Self.malformed("the header signature is missing; was the COPY run with (FORMAT binary)?")
            }
            let extensionLength = Int(Self.int32(bytes, 15))
            guard extensionLength >= 0 else { throw Self.malformed("negative header extension length") }
            guard count >= 19 + extensionLength else { return 0 }
            position = 19 + extensionLength
            headerDone = true
        }
        while position + 2 <= count {
            guard !isAtEnd else { throw Self.malformed("data after the trailer") }
            let fieldCount = Int(Int16(bitPattern: UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1])))
            if fieldCount == -1 {
                isAtEnd = true
                position += 2
                continue
            }
            guard fieldCount >= 0 else { throw Self.malformed("negative field count \(fieldCount)") }
            // Find the row's fields; stop (keeping the bytes) if the row is cut off.
            var cursor = position + 2
            if fields.count < fieldCount * 2 { fields = [Int32](repeating: 0, count: fieldCount * 2) }
            var complete = true
            for field in 0..<fieldCount {
                guard cursor + 4 <= count else { complete = false; break }
                let length = Int(Self.int32(bytes, cursor))
                cursor += 4
                if length < 0 {
                    guard length == -1 else { throw Self.malformed("field length \(length)") }
                    fields[field * 2] = Int32(truncatingIfNeeded: cursor)
                    fields[field * 2 + 1] = -1
                    continue
                }
                guard cursor + length <= count else { complete = false; break }
                fields[field * 2] = Int32(truncatingIfNeeded: cursor)
                fields[field * 2 + 1] = Int32(truncatingIfNeeded: length)
                cursor += length
            }
            guard complete else { break }
            try fields.withUnsafeBufferPointer { fields in
                try body(PostgresBinaryCopyRow(base: bytes, fields: fields, fieldCount: fieldCount))
            }
            rowsDecoded += 1
            position = cursor
        }
        return position
    }

    @inline(__always)
    static func int32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Int32 {
        Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    static func malformed(_ reason: String) -> PostgresError {
        PostgresError(code: .protocolViolation, message: "malformed binary COPY data: \(reason)")
    }
}
