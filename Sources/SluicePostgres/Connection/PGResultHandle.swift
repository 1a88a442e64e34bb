import CLibPQ

/// Owns one `PGresult*` and frees it with `PQclear`.
///
/// `@unchecked Sendable`: libpq documents a PGresult as read-only after
/// creation and independent of its connection, so reading it from any thread
/// is safe; the pointer is immutable and freed exactly once, in `deinit`.
final class PGResultHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { PQclear(pointer) }
}
