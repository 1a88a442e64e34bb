/// Metadata of one written row group, kept until the footer is written.
struct ParquetRowGroupMetadata {
    var numRows: Int64
    var columns: [ParquetChunkMetadata]
}

/// Encodes Parquet's `FileMetaData` footer with the Thrift Compact Protocol.
///
/// Field ids follow parquet-format's `parquet.thrift`.
enum ParquetFooterEncoder {
    static func encode(
        schema: ParquetSchema, rowGroups: [ParquetRowGroupMetadata], numRows: Int64, options: ParquetWriterOptions
    ) -> [UInt8] {
        var writer = ThriftCompactWriter(capacity: 1024 + rowGroups.count * schema.columns.count * 64)
        writer.beginStruct()
        writer.writeField(1, i32: 1)  // version
        // 2: schema — the root group, then one leaf per column.
        writer.writeListField(2, elementType: .struct, count: schema.columns.count + 1)
        writer.beginStruct()
        writer.writeField(4, string: "schema")
        writer.writeField(5, i32: Int32(schema.columns.count))  // num_children
        writer.endStruct()
        for column in schema.columns {
            encodeLeaf(column, into: &writer)
        }
        writer.writeField(3, i64: numRows)
        // 4: row_groups
        writer.writeListField(4, elementType: .struct, count: rowGroups.count)
        for (ordinal, rowGroup) in rowGroups.enumerated() {
            encodeRowGroup(rowGroup, ordinal: ordinal, schema: schema, options: options, into: &writer)
        }
        // 5: key_value_metadata
        if !options.keyValueMetadata.isEmpty {
            writer.writeListField(5, elementType: .struct, count: options.keyValueMetadata.count)
            for pair in options.keyValueMetadata {
                writer.beginStruct()
                writer.writeField(1, string: pair.key)
                writer.writeField(2, string: pair.value)
                writer.endStruct()
            }
        }
        writer.writeField(6, string: options.createdBy)
        // 7: column_orders — TYPE_ORDER for every leaf, so readers trust min/max.
        writer.writeListField(7, elementType: .struct, count: schema.columns.count)
        for _ in schema.columns {
            writer.beginStruct()
            writer.writeEmptyStructField(1)
            writer.endStruct()
        }
        writer.endStruct()
        return writer.bytes
    }

    private static func encodeLeaf(_ column: ParquetColumn, into writer: inout ThriftCompactWriter) {
        writer.beginStruct()
        writer.writeField(1, i32: column.type.physicalType)
        writer.writeField(3, i32: column.isOptional ? 1 : 0)  // repetition_type OPTIONAL / REQUIRED
        writer.writeField(4, string: column.name)
        switch column.type {
        case .string:
            writer.writeField(6, i32: 0)  // converted_type UTF8
            writer.beginStructField(10)  // logicalType
            writer.writeEmptyStructField(1)  // STRING
            writer.endStruct()
        case .timestamp(let unit):
            writer.writeField(6, i32: unit == .millis ? 9 : 10)  // TIMESTAMP_MILLIS / TIMESTAMP_MICROS
            writer.beginStructField(10)  // logicalType
            writer.beginStructField(8)  // TIMESTAMP
            writer.writeField(1, bool: true)  // isAdjustedToUTC
            writer.beginStructField(2)  // unit
            writer.writeEmptyStructField(unit == .millis ? 1 : 2)  // MILLIS / MICROS
            writer.endStruct()
            writer.endStruct()
            writer.endStruct()
        case .double, .float, .int64, .int32, .bool:
            break
        }
        writer.endStruct()
    }

    private static func encodeRowGroup(
        _ rowGroup: ParquetRowGroupMetadata, ordinal: Int, schema: ParquetSchema, options: ParquetWriterOptions,
        into writer: inout ThriftCompactWriter
    ) {
        writer.beginStruct()
        writer.writeListField(1, elementType: .struct, count: rowGroup.columns.count)
        var totalUncompressed: Int64 = 0
        var totalCompressed: Int64 = 0
        for (column, chunk) in zip(schema.columns, rowGroup.columns) {
            totalUncompressed += chunk.totalUncompressedSize
            totalCompressed += chunk.totalCompressedSize
            writer.beginStruct()  // ColumnChunk
            writer.writeField(2, i64: chunk.dataPageOffset)  // file_offset (deprecated)
            writer.beginStructField(3)  // meta_data
            writer.writeField(1, i32: column.type.physicalType)
            writer.writeListField(2, elementType: .i32, count: column.isOptional ? 2 : 1)
            writer.writeI32(0)  // PLAIN
            if column.isOptional { writer.writeI32(3) }  // RLE (definition levels)
            writer.writeListField(3, elementType: .binary, count: 1)
            writer.writeString(column.name)
            writer.writeField(4, i32: options.compression.codec)
            writer.writeField(5, i64: chunk.numValues)
            writer.writeField(6, i64: chunk.totalUncompressedSize)
            writer.writeField(7, i64: chunk.totalCompressedSize)
            writer.writeField(9, i64: chunk.dataPageOffset)
            writer.beginStructField(12)  // statistics
            writer.writeField(3, i64: chunk.nullCount)
            if let max = chunk.maxValue, let min = chunk.minValue {
                writer.writeField(5, binary: max)
                writer.writeField(6, binary: min)
            }
            writer.endStruct()
            writer.endStruct()  // meta_data
            writer.endStruct()  // ColumnChunk
        }
        writer.writeField(2, i64: totalUncompressed)  // total_byte_size
        writer.writeField(3, i64: rowGroup.numRows)
        writer.writeField(5, i64: rowGroup.columns.first?.dataPageOffset ?? 4)  // file_offset
        writer.writeField(6, i64: totalCompressed)
        writer.writeField(7, i16: Int16(truncatingIfNeeded: ordinal))
        writer.endStruct()
    }
}
