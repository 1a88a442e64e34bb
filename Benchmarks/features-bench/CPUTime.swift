#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of the calling thread in seconds: on a shared machine, wall time also counts time spent
/// waiting for a core, so "events/s on one core" is events per CPU second.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Monotonic wall time in seconds.
func wallSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CPU and wall time of one measured stretch.
struct Timing {
    var cpu = 0.0
    var wall = 0.0

    static func + (a: Timing, b: Timing) -> Timing { Timing(cpu: a.cpu + b.cpu, wall: a.wall + b.wall) }
    static func - (a: Timing, b: Timing) -> Timing { Timing(cpu: a.cpu - b.cpu, wall: a.wall - b.wall) }

    /// Times `body`.
    @inline(__always)
    static func measure(_ body: () -> Void) -> Timing {
        let c0 = threadCPUSeconds()
        let w0 = wallSeconds()
        body()
        return Timing(cpu: threadCPUSeconds() - c0, wall: wallSeconds() - w0)
    }
}
