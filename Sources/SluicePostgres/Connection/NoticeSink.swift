import Logging
import Synchronization

/// Receives libpq notices (WARNING/NOTICE) so they go to the logger, not
/// stderr. It also remembers a FATAL message that arrived while the session
/// was idle (libpq reports those as notices, e.g. after `pg_terminate_backend`):
/// such a session is about to close even if the socket is still open.
final class NoticeSink: Sendable {
    let logger: Logger
    private let fatalWhileIdle = Atomic<Bool>(false)

    init(logger: Logger) { self.logger = logger }

    var sessionTerminated: Bool { fatalWhileIdle.load(ordering: .acquiring) }

    func record(severity: String?, message: String) {
        if severity == "FATAL" || severity == "PANIC" {
            fatalWhileIdle.store(true, ordering: .releasing)
        }
        logger.debug("postgres notice", metadata: [PostgresLogKey.notice: "\(message)"])
    }
}
