import Foundation

/// Monotonic time and process resource figures for benchmarks.
enum Measure {
    /// Nanoseconds from a monotonic clock.
    static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    /// Nanoseconds of the host's monotonic clock (`CLOCK_MONOTONIC`), the same clock in every process of the
    /// machine: a time stamped in one process can be compared with one stamped in another.
    static func hostNanos() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
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

    /// Resets this process's peak resident set size to its current size (Linux `clear_refs` 5), so that
    /// `residentPeakBytes()` measures the peak from now on; false when the kernel does not allow it.
    @discardableResult
    static func resetPeakRSS() -> Bool {
        FileManager.default.createFile(atPath: "/proc/self/clear_refs", contents: Data("5".utf8))
    }

    /// Peak resident set size of this process since start or the last `resetPeakRSS()` (`VmHWM`), in bytes;
    /// falls back to `peakRSSBytes()` where /proc is missing.
    static func residentPeakBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
            return peakRSSBytes()
        }
        return kilobytes * 1024
    }

    /// CPU seconds (user + system) used so far by another process of this host, from `/proc/<pid>/stat`;
    /// nil when the process is gone or not visible.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may itself hold spaces and parentheses: state is field 3,
        // utime field 14 and stime field 15 (1-based), in clock ticks.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The command name of a process of this host (`/proc/<pid>/comm`), nil when it is not visible.
    static func commandName(pid: Int32) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The 1-, 5- and 15-minute load averages of the host (other work competing for the cores).
    static func loadAverages() -> [Double] {
        var loads = [Double](repeating: 0, count: 3)
        return getloadavg(&loads, 3) == 3 ? loads : []
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
