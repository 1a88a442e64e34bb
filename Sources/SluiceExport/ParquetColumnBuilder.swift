#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Metadata of one finished column chunk, kept until the footer is written.
struct ParquetChunkMetadata {
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var nullCount: Int64
    var minValue: [UInt8]?
    var maxValue: [UInt8]?
}

/// Buffers and encodes one column of the current row group.
///
/// Values are PLAIN-encoded into the current page as they arrive; a full
/// page is (optionally) compressed and appended, with its header, to the
/// chunk buffer. Only the current row group's chunk is held in memory.
///
/// Non-copyable and kept by the writer in manually allocated memory, so the
/// per-value calls pay neither reference counting nor dynamic exclusivity checks.
struct ParquetColumnBuilder: ~Copyable {
    enum Kind: UInt8 {
        case double, float, int64, int32, bool, string, timestamp
    }

    let column: ParquetColumn
    let kind: Kind
    let isOptional: Bool

    /// Values appended in the current row group (used to check row shape).
    var valuesInGroup: Int = 0
    /// Data pages written in the whole file.
    private(set) var pagesWritten: Int = 0

    // Current page.
    private var values = ByteBuffer(capacity: 64 << 10)
    private var levels = ByteBuffer(capacity: 4 << 10)
    private var pageCount: Int = 0
    private var boolBits: Int = 0

    // Current chunk.
    private var chunk = ByteBuffer(capacity: 64 << 10)
    private var chunkUncompressed: Int64 = 0
    private var chunkValues: Int64 = 0
    private var chunkNulls: Int64 = 0

    // Statistics of the current chunk (NaN never takes part).
    private var hasMinMax = false
    private var minInteger: Int64 = 0
    private var maxInteger: Int64 = 0
    private var minFloating: Double = 0
    private var maxFloating: Double = 0
    // Strings: the current page's min/max live in `values` (offset, length);
    // they are folded into `minString`/`maxString` when the page closes.
    private var pageHasMinMax = false
    private var pageMinOffset = 0
    private var pageMinLength = 0
    private var pageMaxOffset = 0
    private var pageMaxLength = 0
    private var minString: [UInt8] = []
    private var maxString: [UInt8] = []

    init(column: ParquetColumn) {
        self.column = column
        self.isOptional = column.isOptional
        self.kind = Self.kind(of: column.type)
    }

    static func kind(of type: ParquetColumnType) -> Kind {
        switch type {
        case .double: .double
        case .float: .float
        case .int64: .int64
        case .int32: .int32
        case .bool: .bool
        case .string: .string
        case .timestamp: .timestamp
        }
    }

    /// Bytes held for the current row group (encoded pages plus the open page).
    var bufferedBytes: Int { chunk.count + values.count + levels.count }

    /// Bytes held for the open page: PLAIN values plus one byte per definition level.
    var pageBytes: Int { values.count + levels.count }

    // MARK: appending

    @inline(__always)
    private mutating func defined() {
        if isOptional { levels.append(1) }
        pageCount += 1
        valuesInGroup += 1
    }

    mutating func appendNull() {
        levels.append(0)
        pageCount += 1
        valuesInGroup += 1
        chunkNulls += 1
    }

    mutating func appendDouble(_ value: Double) {
        values.appendLittleEndian(value.bitPattern)
        noteFloating(value)
        defined()
    }

    mutating func appendFloat(_ value: Float) {
        values.appendLittleEndian(value.bitPattern)
        noteFloating(Double(value))
        defined()
    }

    @inline(__always)
    private mutating func noteFloating(_ value: Double) {
        guard !value.isNaN else { return }
        if hasMinMax {
            if value < minFloating { minFloating = value }
            if value > maxFloating { maxFloating = value }
        } else {
            minFloating = value
            maxFloating = value
            hasMinMax = true
        }
    }

    /// Appends an INT64 value (int64 and timestamp columns).
    mutating func appendInt64(_ value: Int64) {
        values.appendLittleEndian(value)
        noteInteger(value)
        defined()
    }

    mutating func appendInt32(_ value: Int32) {
        values.appendLittleEndian(value)
        noteInteger(Int64(value))
        defined()
    }

    mutating func appendBool(_ value: Bool) {
        let bit = boolBits & 7
        if bit == 0 { values.append(0) }
        if value {
            let last = values.count - 1
            values.setByte(values.byte(at: last) | UInt8(1) << UInt8(bit), at: last)
        }
        boolBits += 1
        noteInteger(value ? 1 : 0)
        defined()
    }

    @inline(__always)
    private mutating func noteInteger(_ value: Int64) {
        if hasMinMax {
            if value < minInteger { minInteger = value }
            if value > maxInteger { maxInteger = value }
        } else {
            minInteger = value
            maxInteger = value
            hasMinMax = true
        }
    }

    /// Appends a BYTE_ARRAY value (4-byte length, then the bytes).
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        values.appendLittleEndian(UInt32(truncatingIfNeeded: bytes.count))
        let offset = values.count
        values.append(bytes)
        let length = bytes.count
        if pageHasMinMax {
            if compareInPage(offset, length, pageMinOffset, pageMinLength) < 0 {
                pageMinOffset = offset
                pageMinLength = length
            }
            if compareInPage(offset, length, pageMaxOffset, pageMaxLength) > 0 {
                pageMaxOffset = offset
                pageMaxLength = length
            }
        } else {
            pageMinOffset = offset
            pageMinLength = length
            pageMaxOffset = offset
            pageMaxLength = length
            pageHasMinMax = true
        }
        defined()
    }

    @inline(__always)
    private func compareInPage(_ a: Int, _ aLength: Int, _ b: Int, _ bLength: Int) -> Int {
        Self.compare(
            UnsafeRawBufferPointer(start: values.base + a, count: aLength),
            UnsafeRawBufferPointer(start: values.base + b, count: bLength))
    }

    /// Unsigned lexicographic byte order (Parquet's order for UTF-8 strings).
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let aBase = a.baseAddress, let bBase = b.baseAddress {
            let result = memcmp(aBase, bBase, common)
            if result != 0 { return Int(result) }
        }
        return a.count - b.count
    }

    // MARK: pages and chunks

    /// Encodes the open page (if any) and appends it to the chunk.
    mutating func flushPage(
        compression: ParquetCompression, compressor: borrowing SnappyCompressor,
        scratch: inout ByteBuffer, compressed: inout ByteBuffer
    ) {
        guard pageCount > 0 else { return }
        foldPageStringStatistics()
        scratch.removeAll(keepAtMost: 4 << 20)
        if isOptional {
            scratch.appendLittleEndian(UInt32(0))
            RLEHybridEncoder.encodeBitWidth1(levels.bytes, into: &scratch)
            let length = UInt32(scratch.count - 4)
            for index in 0..<4 {
                scratch.setByte(UInt8(truncatingIfNeeded: length >> (8 * UInt32(index))), at: index)
            }
        }
        let uncompressedSize = scratch.count + values.count
        switch compression {
        case .uncompressed:
            let header = Self.pageHeader(
                numValues: pageCount, uncompressedSize: uncompressedSize, compressedSize: uncompressedSize)
            chunk.append(header)
            chunk.append(scratch.bytes)
            chunk.append(values.bytes)
            chunkUncompressed += Int64(header.count + uncompressedSize)
        case .snappy:
            scratch.append(values.bytes)
            compressed.removeAll(keepAtMost: 4 << 20)
            compressor.compress(scratch.bytes, into: &compressed)
            let header = Self.pageHeader(
                numValues: pageCount, uncompressedSize: uncompressedSize, compressedSize: compressed.count)
            chunk.append(header)
            chunk.append(compressed.bytes)
            chunkUncompressed += Int64(header.count + uncompressedSize)
        }
        chunkValues += Int64(pageCount)
        pagesWritten += 1
        pageCount = 0
        boolBits = 0
        values.removeAll(keepAtMost: 4 << 20)
        levels.removeAll(keepAtMost: 1 << 20)
    }

    private mutating func foldPageStringStatistics() {
        guard kind == .string, pageHasMinMax else { return }
        let pageMin = UnsafeRawBufferPointer(start: values.base + pageMinOffset, count: pageMinLength)
        let pageMax = UnsafeRawBufferPointer(start: values.base + pageMaxOffset, count: pageMaxLength)
        if hasMinMax {
            if minString.withUnsafeBytes({ Self.compare(pageMin, $0) }) < 0 { minString = Array(pageMin) }
            if maxString.withUnsafeBytes({ Self.compare(pageMax, $0) }) > 0 { maxString = Array(pageMax) }
        } else {
            minString = Array(pageMin)
            maxString = Array(pageMax)
            hasMinMax = true
        }
        pageHasMinMax = false
    }

    static func pageHeader(numValues: Int, uncompressedSize: Int, compressedSize: Int) -> [UInt8] {
        var writer = ThriftCompactWriter(capacity: 32)
        writer.beginStruct()
        writer.writeField(1, i32: 0)  // type = DATA_PAGE
        writer.writeField(2, i32: Int32(uncompressedSize))
        writer.writeField(3, i32: Int32(compressedSize))
        writer.beginStructField(5)  // data_page_header
        writer.writeField(1, i32: Int32(numValues))
        writer.writeField(2, i32: 0)  // encoding = PLAIN
        writer.writeField(3, i32: 3)  // definition_level_encoding = RLE
        writer.writeField(4, i32: 3)  // repetition_level_encoding = RLE
        writer.endStruct()
        writer.endStruct()
        return writer.bytes
    }

    /// The encoded pages of the current chunk; valid until `resetChunk()`.
    var chunkBytes: UnsafeRawBufferPointer { chunk.bytes }

    /// Describes the chunk (call after the last `flushPage`), given where it starts in the file.
    func chunkMetadata(fileOffset: Int64, maxStringStatisticsBytes: Int) -> ParquetChunkMetadata {
        var minValue: [UInt8]?
        var maxValue: [UInt8]?
        if hasMinMax {
            switch kind {
            case .double:
                // Parquet asks for -0.0 as a zero minimum and +0.0 as a zero maximum.
                let low = minFloating == 0 ? -0.0 : minFloating
                let high = maxFloating == 0 ? 0.0 : maxFloating
                minValue = Self.littleEndianBytes(low.bitPattern)
                maxValue = Self.littleEndianBytes(high.bitPattern)
            case .float:
                let low = minFloating == 0 ? Float(-0.0) : Float(minFloating)
                let high = maxFloating == 0 ? Float(0.0) : Float(maxFloating)
                minValue = Self.littleEndianBytes(low.bitPattern)
                maxValue = Self.littleEndianBytes(high.bitPattern)
            case .int64, .timestamp:
                minValue = Self.littleEndianBytes(minInteger)
                maxValue = Self.littleEndianBytes(maxInteger)
            case .int32:
                minValue = Self.littleEndianBytes(Int32(truncatingIfNeeded: minInteger))
                maxValue = Self.littleEndianBytes(Int32(truncatingIfNeeded: maxInteger))
            case .bool:
                minValue = [UInt8(truncatingIfNeeded: minInteger)]
                maxValue = [UInt8(truncatingIfNeeded: maxInteger)]
            case .string:
                if minString.count <= maxStringStatisticsBytes && maxString.count <= maxStringStatisticsBytes {
                    minValue = minString
                    maxValue = maxString
                }
            }
        }
        return ParquetChunkMetadata(
            numValues: chunkValues, totalUncompressedSize: chunkUncompressed,
            totalCompressedSize: Int64(chunk.count), dataPageOffset: fileOffset, nullCount: chunkNulls,
            minValue: minValue, maxValue: maxValue)
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// Forgets the written chunk and starts the next row group.
    mutating func resetChunk(keepAtMost: Int) {
        chunk.removeAll(keepAtMost: keepAtMost)
        chunkUncompressed = 0
        chunkValues = 0
        chunkNulls = 0
        hasMinMax = false
        minString = []
        maxString = []
        valuesInGroup = 0
    }
}
