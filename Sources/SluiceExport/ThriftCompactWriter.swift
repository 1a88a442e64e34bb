/// A minimal encoder for the Thrift Compact Protocol, enough for Parquet's
/// `FileMetaData` and `PageHeader`.
///
/// Field headers carry the field-id delta in the high nibble when it is 1…15
/// (otherwise the type byte is followed by the zigzag varint id); integers
/// are zigzag varints; booleans in fields live in the header's type nibble;
/// binary is a varint length followed by the bytes; a list header holds the
/// size in the high nibble when below 15. Each nested struct starts its
/// field-id deltas from 0 and ends with a stop byte.
struct ThriftCompactWriter {
    /// Compact protocol type ids.
    enum FieldType: UInt8 {
        case boolTrue = 1
        case boolFalse = 2
        case byte = 3
        case i16 = 4
        case i32 = 5
        case i64 = 6
        case double = 7
        case binary = 8
        case list = 9
        case set = 10
        case map = 11
        case `struct` = 12
    }

    private(set) var bytes: [UInt8] = []
    private var lastFieldID: Int16 = 0
    private var fieldIDStack: [Int16] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: primitives

    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    mutating func writeI32(_ value: Int32) {
        writeVarint(Self.zigzag(Int64(value)))
    }

    mutating func writeI64(_ value: Int64) {
        writeVarint(Self.zigzag(value))
    }

    mutating func writeBinary(_ value: [UInt8]) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ value: String) {
        writeBinary(Array(value.utf8))
    }

    // MARK: fields

    mutating func writeFieldHeader(id: Int16, type: FieldType) {
        let delta = Int(id) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeI32(Int32(id))  // i16 is written as a zigzag varint like i32
        }
        lastFieldID = id
    }

    mutating func writeField(_ id: Int16, i32 value: Int32) {
        writeFieldHeader(id: id, type: .i32)
        writeI32(value)
    }

    mutating func writeField(_ id: Int16, i16 value: Int16) {
        writeFieldHeader(id: id, type: .i16)
        writeI32(Int32(value))
    }

    mutating func writeField(_ id: Int16, i64 value: Int64) {
        writeFieldHeader(id: id, type: .i64)
        writeI64(value)
    }

    mutating func writeField(_ id: Int16, binary value: [UInt8]) {
        writeFieldHeader(id: id, type: .binary)
        writeBinary(value)
    }

    mutating func writeField(_ id: Int16, string value: String) {
        writeField(id, binary: Array(value.utf8))
    }

    mutating func writeField(_ id: Int16, bool value: Bool) {
        writeFieldHeader(id: id, type: value ? .boolTrue : .boolFalse)
    }

    /// Writes the header of a list-typed field; follow with `count` elements.
    mutating func writeListField(_ id: Int16, elementType: FieldType, count: Int) {
        writeFieldHeader(id: id, type: .list)
        writeListHeader(elementType: elementType, count: count)
    }

    mutating func writeListHeader(elementType: FieldType, count: Int) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            writeVarint(UInt64(count))
        }
    }

    /// Starts a struct-typed field; close it with `endStruct()`.
    mutating func beginStructField(_ id: Int16) {
        writeFieldHeader(id: id, type: .struct)
        beginStruct()
    }

    /// Starts a struct that is not a field (the top level or a list element).
    mutating func beginStruct() {
        fieldIDStack.append(lastFieldID)
        lastFieldID = 0
    }

    /// Writes the stop byte and returns to the enclosing struct's field ids.
    mutating func endStruct() {
        bytes.append(0)
        lastFieldID = fieldIDStack.popLast() ?? 0
    }

    /// Writes an empty struct-typed field (Parquet uses these as union markers).
    mutating func writeEmptyStructField(_ id: Int16) {
        beginStructField(id)
        endStruct()
    }
}
