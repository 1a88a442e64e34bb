import Dispatch
import Synchronization

/// Reads the data of a `COPY … TO STDOUT` a chunk at a time; only exists inside a
/// ``PostgresConnection/copyOut(_:chunkSize:readAhead:_:)`` closure.
///
/// While the caller handles one chunk, the next ones (up to `readAhead`) are already being read on the
/// connection's thread, so libpq's copying and the server's sending overlap the caller's work, and a caller that
/// is briefly busy does not stall the server.
package struct PostgresCopyOutReader {
    /// 1 MiB: large enough that hopping to the connection's thread per chunk costs nothing measurable,
    /// small enough to stream.
    package static let defaultChunkSize = 1 << 20

    let connection: PostgresConnection
    let sql: String
    let chunkSize: Int
    let readAhead: Int
    /// Reads queued on the connection's thread, oldest first.
    private(set) var pending: [PendingCopyOutChunk] = []
    /// Shared with the queued reads: set by the read that reached the end (or failed), so later ones do nothing.
    private let ended = PostgresCopyOutEnd()
    /// True once the server ended the COPY (the last chunk was returned) or the COPY failed.
    package private(set) var isFinished = false
    /// Rows the server reported copying (its command tag), known once finished.
    package private(set) var rowCount: Int?
    /// Bytes of COPY data read so far.
    package private(set) var bytesRead = 0

    init(connection: PostgresConnection, sql: String, chunkSize: Int, readAhead: Int) {
        self.connection = connection
        self.sql = sql
        self.chunkSize = max(chunkSize, 1024)
        self.readAhead = max(readAhead, 1)
    }

    /// The next chunk: whole server messages (in `(FORMAT binary)`, the first holds the header and each
    /// other one a row or the trailer), or nil after the last one.
    /// - Throws: `PostgresError` when the statement fails mid-stream (`.server`, with its SQLSTATE) or the
    ///   connection breaks (`.connectionLost`); task cancellation cancels the statement (`.cancelled`).
    package mutating func next() async throws -> [UInt8]? {
        guard !isFinished else { return nil }
        while pending.count < readAhead { pending.append(startRead()) }
        let read = pending.removeFirst()
        let chunk: PostgresCopyOutChunk
        do {
            chunk = try await connection.cancellable { try await read.value() }
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
            pending.append(startRead())
        }
        return chunk.bytes
    }

    /// Queues a read on the connection's thread; reads run in the order they were queued.
    private func startRead() -> PendingCopyOutChunk {
        let read = PendingCopyOutChunk()
        let connection = self.connection
        let sql = self.sql
        let chunkSize = self.chunkSize
        let ended = self.ended
        connection.queue.async {
            guard !ended.isSet else {
                read.fulfil(.success(PostgresCopyOutChunk(bytes: [], messages: 0, rowCount: 0)))
                return
            }
            let result = Result { try connection.readCopyOutChunkOnQueue(sql, chunkSize: chunkSize) }
            if case .success(let chunk) = result, chunk.rowCount == nil {} else { ended.set() }
            read.fulfil(result)
        }
        return read
    }
}

/// What one read on the connection's thread brought back.
struct PostgresCopyOutChunk: Sendable {
    var bytes: [UInt8]
    var messages: Int
    /// Set when the COPY ended with this chunk: the rows the server reported.
    var rowCount: Int?
}

/// A flag the queued reads of one COPY share: the COPY is over.
final class PostgresCopyOutEnd: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// The outcome of a read queued on the connection's thread, awaited by the reader.
final class PendingCopyOutChunk: Sendable {
    private struct State {
        var result: Result<PostgresCopyOutChunk, any Error>?
        var waiter: CheckedContinuation<PostgresCopyOutChunk, any Error>?
    }

    private let state = Mutex(State())

    func fulfil(_ result: Result<PostgresCopyOutChunk, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<PostgresCopyOutChunk, any Error>? in
            guard let waiter = state.waiter else {
                state.result = result
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> PostgresCopyOutChunk {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<PostgresCopyOutChunk, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
