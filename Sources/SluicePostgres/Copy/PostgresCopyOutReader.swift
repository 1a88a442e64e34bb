/// Reads the data of a `COPY … TO STDOUT` a chunk at a time; only exists inside a
/// ``PostgresConnection/copyOut(_:chunkSize:_:)`` closure.
///
/// While the caller handles one chunk, the next one is already being read on the connection's thread (one
/// chunk ahead, no more), so libpq's copying overlaps the caller's work.
package struct PostgresCopyOutReader {
    /// 1 MiB: large enough that hopping to the connection's thread per chunk costs nothing measurable,
    /// small enough to stream.
    package static let defaultChunkSize = 1 << 20

    let connection: PostgresConnection
    let sql: String
    let chunkSize: Int
    /// The read of the next chunk, started when the previous one was handed out.
    private(set) var pending: Task<PostgresCopyOutChunk, any Error>?
    /// True once the server ended the COPY (the last chunk was returned) or the COPY failed.
    package private(set) var isFinished = false
    /// Rows the server reported copying (its command tag), known once finished.
    package private(set) var rowCount: Int?
    /// Bytes of COPY data read so far.
    package private(set) var bytesRead = 0

    init(connection: PostgresConnection, sql: String, chunkSize: Int) {
        self.connection = connection
        self.sql = sql
        self.chunkSize = max(chunkSize, 1024)
    }

    /// The next chunk: whole server messages (in `(FORMAT binary)`, the first holds the header and each
    /// other one a row or the trailer), or nil after the last one.
    /// - Throws: `PostgresError` when the statement fails mid-stream (`.server`, with its SQLSTATE) or the
    ///   connection breaks (`.connectionLost`); task cancellation cancels the statement (`.cancelled`).
    package mutating func next() async throws -> [UInt8]? {
        guard !isFinished else { return nil }
        let read = pending ?? startRead()
        pending = nil
        let chunk: PostgresCopyOutChunk
        do {
            chunk = try await connection.cancellable { try await read.value }
        } catch {
            isFinished = true  // the COPY ended with the error; nothing is left to drain
            throw error
        }
        bytesRead += chunk.bytes.count
        if let rows = chunk.rowCount {
            isFinished = true
            rowCount = rows
            if chunk.bytes.isEmpty { return nil }
        } else {
            pending = startRead()
        }
        return chunk.bytes
    }

    private func startRead() -> Task<PostgresCopyOutChunk, any Error> {
        let connection = self.connection
        let sql = self.sql
        let chunkSize = self.chunkSize
        return Task {
            try await connection.onQueue { try connection.readCopyOutChunkOnQueue(sql, chunkSize: chunkSize) }
        }
    }
}

/// What one read on the connection's thread brought back.
struct PostgresCopyOutChunk: Sendable {
    var bytes: [UInt8]
    var messages: Int
    /// Set when the COPY ended with this chunk: the rows the server reported.
    var rowCount: Int?
}
