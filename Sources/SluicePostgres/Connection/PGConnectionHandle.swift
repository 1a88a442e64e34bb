import CLibPQ
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Owns one open `PGconn*` (with its `PGcancel*` and the notice sink libpq
/// calls back into) and closes it with `PQfinish` in `deinit`.
///
/// `@unchecked Sendable`: the pointer is immutable and every libpq call that
/// uses it runs on the owning `PostgresConnection`'s serial queue, so libpq
/// never sees two threads on one PGconn; the handle is only moved between
/// threads, never used concurrently.
final class PGConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    /// `PGcancel*` for `requestCancel()`; libpq allows using it from any thread.
    private let cancel: OpaquePointer?
    private let noticeSink: Unmanaged<NoticeSink>

    private init(pointer: OpaquePointer, noticeSink: Unmanaged<NoticeSink>) {
        self.pointer = pointer
        self.cancel = PQgetCancel(pointer)
        self.noticeSink = noticeSink
    }

    /// The server announced (FATAL while idle) that it is closing this session.
    var serverTerminatedSession: Bool { noticeSink.takeUnretainedValue().sessionTerminated }

    deinit {
        if let cancel { PQfreeCancel(cancel) }
        PQfinish(pointer)
        noticeSink.release()
    }

    /// Asks the server to cancel the statement running on this session
    /// (`PQcancel`, which opens its own short connection). Safe from any
    /// thread: it uses the separate `PGcancel` object, never the `PGconn`.
    func requestCancel() {
        guard let cancel else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
    }

    /// Blocking connect (libpq honours `connect_timeout`). Call on the connection's queue.
    static func open(_ configuration: PostgresConfiguration, logger: Logger) throws -> PGConnectionHandle {
        let parameters = configuration.connectParameters
        let pointer: OpaquePointer? = withCStrings(parameters.map(\.keyword)) { keywords in
            withCStrings(parameters.map(\.value)) { values in
                PQconnectdbParams(keywords, values, 0)
            }
        }
        guard let pointer else {
            throw PostgresError(code: .connectionFailed, message: "could not connect to PostgreSQL (\(configuration)): libpq is out of memory")
        }
        guard PQstatus(pointer) == CONNECTION_OK else {
            let reason = String(cString: PQerrorMessage(pointer)).trimmingWhitespace()
            PQfinish(pointer)
            throw PostgresError(code: .connectionFailed, message: "could not connect to PostgreSQL (\(configuration)): \(reason)")
        }
        let sink = Unmanaged.passRetained(NoticeSink(logger: logger))
        PQsetNoticeReceiver(pointer, { context, result in
            guard let context, let result else { return }
            let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
            let message = String(cString: PQresultErrorMessage(result)).trimmingWhitespace()
            let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) }
            sink.record(severity: severity, message: message)
        }, sink.toOpaque())
        return PGConnectionHandle(pointer: pointer, noticeSink: sink)
    }
}
