/// One row of a binary COPY: its fields' raw bytes in PostgreSQL's binary format. Valid only inside the
/// ``PostgresBinaryCopyDecoder/decode(_:_:)`` callback that received it.
package struct PostgresBinaryCopyRow {
    let base: UnsafeRawBufferPointer
    let fields: UnsafeBufferPointer<Int32>
    /// The number of fields.
    package let fieldCount: Int

    /// The bytes of field `index`, or nil when it is NULL (or out of range).
    @inline(__always)
    package func field(_ index: Int) -> UnsafeRawBufferPointer? {
        guard index >= 0, index < fieldCount else { return nil }
        let length = Int(fields[index * 2 + 1])
        guard length >= 0 else { return nil }
        return UnsafeRawBufferPointer(rebasing: base[Int(fields[index * 2])..<(Int(fields[index * 2]) + length)])
    }

    /// True when field `index` is NULL.
    package func isNull(_ index: Int) -> Bool { field(index) == nil }

    /// An `int8` / `int4` / `int2` field widened to `Int64`, or nil when NULL.
    /// - Throws: `PostgresError` `.decoding` when the field is not 2, 4 or 8 bytes.
    package func integer(_ index: Int) throws -> Int64? {
        guard let bytes = field(index) else { return nil }
        switch bytes.count {
        case 8: return Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
        case 4: return Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        case 2: return Int64(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
        default: throw PostgresError(code: .decoding, message: "COPY field \(index) has \(bytes.count) bytes; expected an integer of 2, 4 or 8")
        }
    }

    /// A `float8` field, or nil when NULL.
    /// - Throws: `PostgresError` `.decoding` when the field is not 8 bytes.
    package func double(_ index: Int) throws -> Double? {
        guard let bytes = field(index) else { return nil }
        guard bytes.count == 8 else {
            throw PostgresError(code: .decoding, message: "COPY field \(index) has \(bytes.count) bytes; expected a float8 (8 bytes)")
        }
        return Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
    }

    /// A `timestamptz` field, or nil when NULL.
    /// - Throws: `PostgresError` `.decoding` when the field is not 8 bytes.
    package func timestamp(_ index: Int) throws -> PostgresTimestamp? {
        guard let bytes = field(index) else { return nil }
        guard bytes.count == 8 else {
            throw PostgresError(code: .decoding, message: "COPY field \(index) has \(bytes.count) bytes; expected a timestamptz (8 bytes)")
        }
        return try PostgresTimestamp.decode(from: bytes, type: .timestamptz)
    }
}
