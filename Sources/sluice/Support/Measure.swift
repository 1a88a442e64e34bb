import Foundation

/// Monotonic time and process resource figures for benchmarks.
enum Measure {
    /// Nanoseconds from a monotonic clock.
    static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    /// Seconds elapsed since `start` (from `now()`).
    static func seconds(since start: UInt64) -> Double {
        Double(now() - start) / 1e9
    }

    /// CPU seconds (user + system) used by this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident set size of this process in bytes.
    static func peakRSSBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// Runs an external command to completion and returns its wall-clock seconds and exit status.
    static func runProcess(_ executable: String, _ arguments: [String], stdinFile: String? = nil, stdoutToNull: Bool = true) throws -> (seconds: Double, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let stdinFile { process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile)) }
        if stdoutToNull { process.standardOutput = FileHandle.nullDevice }
        let start = now()
        try process.run()
        process.waitUntilExit()
        return (seconds(since: start), process.terminationStatus)
    }

    /// The path of an executable found on PATH, or nil.
    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
