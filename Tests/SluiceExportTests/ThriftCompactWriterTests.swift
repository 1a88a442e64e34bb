@testable import SluiceExport
import Testing

/// The compact protocol encoder against examples worked out by hand from the
/// Thrift compact protocol specification (thrift/doc/specs/thrift-compact-protocol.md).
@Suite struct ThriftCompactWriterTests {
    @Test func shortFieldHeaderCarriesDeltaAndZigzagValue() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeField(1, i32: 1)  // delta 1, type i32 (5) -> 0x15; zigzag(1) = 2
        writer.endStruct()
        #expect(writer.bytes == [0x15, 0x02, 0x00])
    }

    @Test func zigzagVarintsOfEdgeValues() {
        var writer = ThriftCompactWriter()
        writer.writeI32(-1)  // zigzag 1
        writer.writeI32(-64)  // zigzag 127
        writer.writeI32(64)  // zigzag 128 -> 0x80 0x01
        writer.writeI64(300)  // zigzag 600 -> 0xD8 0x04
        writer.writeI64(Int64.min)  // zigzag UInt64.max -> nine 0xFF then 0x01
        #expect(writer.bytes == [0x01, 0x7F, 0x80, 0x01, 0xD8, 0x04] + Array(repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func fieldIDJumpOver15UsesLongHeader() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeField(1, i32: 1)
        writer.writeField(20, i32: 1)  // delta 19: type byte 0x05, then zigzag(20) = 40 = 0x28
        writer.endStruct()
        #expect(writer.bytes == [0x15, 0x02, 0x05, 0x28, 0x02, 0x00])
    }

    @Test func booleansLiveInTheFieldHeader() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeField(1, bool: true)  // type 1 = BOOLEAN_TRUE
        writer.writeField(2, bool: false)  // type 2 = BOOLEAN_FALSE
        writer.endStruct()
        #expect(writer.bytes == [0x11, 0x12, 0x00])
    }

    @Test func binaryAndI64Fields() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeField(3, string: "ab")  // delta 3, type 8 -> 0x38; length 2
        writer.writeField(4, i64: -2)  // delta 1, type 6 -> 0x16; zigzag(-2) = 3
        writer.endStruct()
        #expect(writer.bytes == [0x38, 0x02, 0x61, 0x62, 0x16, 0x03, 0x00])
    }

    @Test func listHeadersShortAndLong() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeListField(1, elementType: .i32, count: 3)  // 0x19, then size 3 << 4 | 5 = 0x35
        for value: Int32 in [0, 1, 2] { writer.writeI32(value) }
        writer.writeListField(2, elementType: .binary, count: 15)  // 0x19, then 0xF8 and varint 15
        for _ in 0..<15 { writer.writeBinary([]) }
        writer.endStruct()
        #expect(writer.bytes == [0x19, 0x35, 0x00, 0x02, 0x04, 0x19, 0xF8, 0x0F] + Array(repeating: 0x00, count: 15) + [0x00])
    }

    @Test func nestedStructsRestartFieldIDs() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.beginStructField(1)  // delta 1, type 12 -> 0x1C
        writer.writeField(1, i32: 1)  // inner ids start again at 0: 0x15 0x02
        writer.endStruct()  // 0x00
        writer.writeField(2, i32: 5)  // outer delta 1 from field 1: 0x15, zigzag(5) = 10
        writer.writeEmptyStructField(8)  // delta 6: 0x6C, then stop
        writer.endStruct()
        #expect(writer.bytes == [0x1C, 0x15, 0x02, 0x00, 0x15, 0x0A, 0x6C, 0x00, 0x00])
    }

    @Test func listOfStructsStartsEachElementAtFieldZero() {
        var writer = ThriftCompactWriter()
        writer.beginStruct()
        writer.writeField(5, i32: 0)  // 0x55 0x00
        writer.writeListField(6, elementType: .struct, count: 2)  // delta 1, type 9 -> 0x19; 0x2C
        for _ in 0..<2 {
            writer.beginStruct()
            writer.writeField(1, i32: 1)  // 0x15 0x02 in every element
            writer.endStruct()
        }
        writer.writeField(7, i32: 1)  // delta 1 from field 6 -> 0x15
        writer.endStruct()
        #expect(writer.bytes == [0x55, 0x00, 0x19, 0x2C, 0x15, 0x02, 0x00, 0x15, 0x02, 0x00, 0x15, 0x02, 0x00])
    }
}
