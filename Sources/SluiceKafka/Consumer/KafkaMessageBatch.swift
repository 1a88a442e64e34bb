import CRdKafka

/// Messages taken from librdkafka in one poll, stored contiguously: every key, value and header value lives in
/// one byte buffer, so a batch costs a handful of allocations however many messages it holds.
package struct KafkaMessageBatch: Sendable, RandomAccessCollection {
    struct Record: Sendable {
        var topicIndex: Int32
        var partition: Int32
        var offset: Int64
        var timestampMillis: Int64
        var keyStart: Int32
        /// -1 when the key is null.
        var keyLength: Int32
        var valueStart: Int32
        var valueLength: Int32
        var headerStart: Int32
        var headerCount: Int32
    }

    struct HeaderRecord: Sendable {
        var name: String
        var start: Int32
        /// -1 for a null value.
        var length: Int32
    }

    private(set) var bytes: [UInt8] = []
    private(set) var records: [Record] = []
    private(set) var topics: [String] = []
    private(set) var headerRecords: [HeaderRecord] = []

    package init() {}

    package var startIndex: Int { 0 }
    package var endIndex: Int { records.count }

    package subscript(position: Int) -> KafkaMessage {
        KafkaMessage(batch: self, record: records[position])
    }

    /// Appends a message copied from librdkafka. `topicIndex` is the position of its topic in `topics`.
    mutating func append(_ message: UnsafePointer<rd_kafka_message_t>, topicIndex: Int32) {
        let m = message.pointee
        var record = Record(topicIndex: topicIndex, partition: m.partition, offset: m.offset,
                            timestampMillis: rd_kafka_message_timestamp(message, nil),
                            keyStart: Int32(bytes.count), keyLength: -1, valueStart: 0, valueLength: 0,
                            headerStart: Int32(headerRecords.count), headerCount: 0)
        if let key = m.key {
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: key, count: m.key_len))
            record.keyLength = Int32(m.key_len)
        }
        record.valueStart = Int32(bytes.count)
        if let payload = m.payload {
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: payload, count: m.len))
            record.valueLength = Int32(m.len)
        }
        var headers: OpaquePointer? = nil
        if rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers {
            var index = 0
            var name: UnsafePointer<CChar>? = nil
            var value: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let start = Int32(bytes.count)
                if let value {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: value, count: size))
                }
                headerRecords.append(HeaderRecord(name: CString.string(name), start: start, length: value == nil ? -1 : Int32(size)))
                index += 1
            }
            record.headerCount = Int32(index)
        }
        records.append(record)
    }

    /// How many of the batch's messages came from each topic (topics without messages left out).
    package func countsByTopic() -> [(topic: String, count: Int)] {
        var counts = [Int](repeating: 0, count: topics.count)
        for record in records { counts[Int(record.topicIndex)] += 1 }
        return zip(topics, counts).filter { $0.1 > 0 }.map { (topic: $0.0, count: $0.1) }
    }

    mutating func reserve(messages: Int, bytes byteCount: Int) {
        records.reserveCapacity(messages)
        bytes.reserveCapacity(byteCount)
    }

    mutating func addTopic(_ name: String) -> Int32 {
        topics.append(name)
        return Int32(topics.count - 1)
    }
}

/// One consumed message: a view into its `KafkaMessageBatch`.
package struct KafkaMessage: Sendable {
    private let batch: KafkaMessageBatch
    private let record: KafkaMessageBatch.Record

    init(batch: KafkaMessageBatch, record: KafkaMessageBatch.Record) {
        self.batch = batch
        self.record = record
    }

    package var topic: String { batch.topics[Int(record.topicIndex)] }
    package var partition: Int32 { record.partition }
    package var offset: Int64 { record.offset }
    package var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
    /// The record timestamp in milliseconds since the Unix epoch, or -1 when the broker sent none.
    package var timestampMillis: Int64 { record.timestampMillis }

    /// The key, or nil for a null key.
    package var key: ArraySlice<UInt8>? {
        guard record.keyLength >= 0 else { return nil }
        let start = Int(record.keyStart)
        return batch.bytes[start..<start + Int(record.keyLength)]
    }

    /// The value (payload).
    package var value: ArraySlice<UInt8> {
        let start = Int(record.valueStart)
        return batch.bytes[start..<start + Int(record.valueLength)]
    }

    /// Calls `body` with the value's bytes without copying them.
    package func withUnsafeValue<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try batch.bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[Int(record.valueStart)..<Int(record.valueStart) + Int(record.valueLength)]))
        }
    }

    /// The record headers, in order.
    package var headers: [KafkaHeader] {
        let start = Int(record.headerStart)
        return batch.headerRecords[start..<start + Int(record.headerCount)].map { header in
            guard header.length >= 0 else { return KafkaHeader(name: header.name, value: nil) }
            let from = Int(header.start)
            return KafkaHeader(name: header.name, value: Array(batch.bytes[from..<from + Int(header.length)]))
        }
    }
}
