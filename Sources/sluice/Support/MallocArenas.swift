#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// glibc's malloc gives each thread that contends for it an arena of its own, up to 8 per core, and memory
/// freed in one arena is not reused by another. The worker frees on other threads than it allocates (librdkafka's
/// threads, the concurrency pool), so entity states dropped from the cache and replaced by restored ones left
/// the heap spread over many half-empty arenas: peak RSS was 33 MB (about 10 %) lower with two arenas in
/// `sluice bench pipeline` at a million active entities, at the same rate.
enum MallocArenas {
    /// Limits glibc to two arenas unless `MALLOC_ARENA_MAX` already says how many (the operator's choice wins).
    static func limit() {
        #if canImport(Glibc)
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        // mallopt is not in the Glibc module; M_ARENA_MAX is -8 in <malloc.h>.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 2)
        #endif
    }
}
