#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread scratch memory for the scoring paths, so scoring a row allocates nothing after a
/// thread's first call.
///
/// Requests up to 1 KiB use the stack (`withUnsafeTemporaryAllocation`). Larger ones (prepared
/// rows of wide models, TreeSHAP paths, batch blocks) reuse one heap buffer per thread, kept in a
/// pthread key and grown when needed; a nested request on the same thread, which the scoring code
/// never makes, falls back to a fresh allocation rather than sharing the buffer.
enum ThreadScratch {
    /// The per-thread buffer. Only ever touched by the thread that owns it.
    private final class Buffer {
        var pointer: UnsafeMutableRawPointer
        var capacity: Int
        var inUse = false

        init(capacity: Int) {
            self.capacity = capacity
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }

        deinit { pointer.deallocate() }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The destructor releases the thread's buffer when the thread exits.
        pthread_key_create(&key) { raw in
            #if canImport(Glibc)
            guard let raw else { return }
            #endif
            Unmanaged<Buffer>.fromOpaque(raw).release()
        }
        return key
    }()

    /// Calls `body` with at least `byteCount` bytes of uninitialised memory aligned to 16 bytes.
    @inline(__always)
    static func withBytes<R>(_ byteCount: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        if byteCount <= 1024 {
            return withUnsafeTemporaryAllocation(byteCount: max(byteCount, 1), alignment: 16) { raw in
                body(raw.baseAddress.unsafelyUnwrapped)
            }
        }
        return withHeapBytes(byteCount, body)
    }

    private static func withHeapBytes<R>(_ byteCount: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        let buffer: Buffer
        if let raw = pthread_getspecific(key) {
            buffer = Unmanaged<Buffer>.fromOpaque(raw).takeUnretainedValue()
        } else {
            buffer = Buffer(capacity: max(byteCount, 16_384))
            pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        }
        if buffer.inUse {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
            defer { pointer.deallocate() }
            return body(pointer)
        }
        if buffer.capacity < byteCount {
            buffer.pointer.deallocate()
            buffer.capacity = max(byteCount, buffer.capacity * 2)
            buffer.pointer = UnsafeMutableRawPointer.allocate(byteCount: buffer.capacity, alignment: 64)
        }
        buffer.inUse = true
        defer { buffer.inUse = false }
        return body(buffer.pointer)
    }

    /// Calls `body` with room for `count` values of `T` (uninitialised; `T` must be a trivial type).
    @inline(__always)
    static func with<T, R>(_ type: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
        withBytes(count * MemoryLayout<T>.stride) { raw in
            body(raw.bindMemory(to: T.self, capacity: count))
        }
    }

    /// Calls `body` with room for `count1` values of `A` followed by `count2` values of `B`
    /// (uninitialised; trivial types whose alignment is at most 16).
    @inline(__always)
    static func with<A, B, R>(
        _ a: A.Type, count count1: Int, _ b: B.Type, count count2: Int,
        _ body: (UnsafeMutablePointer<A>, UnsafeMutablePointer<B>) -> R
    ) -> R {
        let offset = (count1 * MemoryLayout<A>.stride + 15) & ~15
        return withBytes(offset + count2 * MemoryLayout<B>.stride) { raw in
            body(raw.bindMemory(to: A.self, capacity: count1), (raw + offset).bindMemory(to: B.self, capacity: count2))
        }
    }
}
