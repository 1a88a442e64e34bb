import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import SluicePostgres
import SluiceWorker
import Synchronization
import Testing

/// How hard the chaos suite pushes: `SLUICE_CHAOS=quick` (the default, part of `scripts/test`) or `long`
/// (`scripts/chaos`: at least 20 kills, more faults, restarts and churn).
enum ChaosMode: String, Sendable {
    case quick
    case long

    static var current: ChaosMode {
        ProcessInfo.processInfo.environment["SLUICE_CHAOS"].flatMap { ChaosMode(rawValue: $0.lowercased()) } ?? .quick
    }

    /// `quick` in the quick mode, `long` otherwise.
    func pick<T>(quick: T, long: T) -> T { self == .quick ? quick : long }
}

/// One scenario's outcome, appended as one JSON line to the file named by `SLUICE_CHAOS_SUMMARY` (if set);
/// `scripts/chaos` prints them as a table.
struct ChaosRecord: Encodable {
    var scenario: String
    var mode: String = ChaosMode.current.rawValue
    /// Faults tried (kills, injected faults, restarts, membership changes) and what they were.
    var attempts = 0
    var attemptsDetail = ""
    /// Input events (processed and dead-lettered) and the processed ones.
    var events = 0
    var processed = 0
    /// Must be 0: processed offsets without a feature-log row plus expected predictions never published.
    var lost = 0
    /// Duplicate predictions on the predictions topic (same id and score) plus duplicate feature-log rows (0).
    var duplicates = 0
    var duplicatesExplained = ""
    /// The slowest recovery, and how it was measured.
    var recoveryMaxSeconds = 0.0
    var recoveryMeasure = ""
    var wallSeconds = 0.0

    init(scenario: String) {
        self.scenario = scenario
    }

    mutating func add(_ outcome: DeliveryOutcome) {
        events = outcome.events
        processed = outcome.processed
        lost = outcome.lost
        duplicates = outcome.duplicatePredictions + outcome.duplicateLogRows
    }

    /// Ends the scenario: its data check's counts, what was tried, why duplicates happen and how recovery was
    /// timed; expects nothing lost, and writes the record.
    mutating func finish(_ outcome: DeliveryOutcome, tried detail: String, duplicates explained: String, recovery measure: String,
                         since started: ContinuousClock.Instant) throws {
        add(outcome)
        attemptsDetail = detail
        duplicatesExplained = explained
        recoveryMeasure = measure
        wallSeconds = (ContinuousClock.now - started).seconds
        #expect(lost == 0, "\(scenario): nothing lost")
        try write()
    }

    mutating func recovered(in duration: Duration) {
        recoveryMaxSeconds = max(recoveryMaxSeconds, duration.seconds)
    }

    private static let lock = Mutex(())

    /// Appends the record to `SLUICE_CHAOS_SUMMARY`, if set.
    func write() throws {
        guard let path = ProcessInfo.processInfo.environment["SLUICE_CHAOS_SUMMARY"], !path.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        let line = try encoder.encode(self) + Data("\n".utf8)
        try Self.lock.withLock { _ in
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Event time for successive chunks of demo events: each chunk starts after the previous one's events end, so
/// only the generator's own late events are late.
struct EventClock {
    private var next: Int64

    init(hoursAgo: Int64 = 1) {
        next = Int64(Date().timeIntervalSince1970 * 1_000) - hoursAgo * 3_600_000
    }

    /// The start of a chunk of `count` events (50 ms apart).
    mutating func chunk(_ count: Int) -> Int64 {
        defer { next += Int64(count) * 50 + 1_000 }
        return next
    }
}

/// A `sluice run` process, its log (stderr) in a temporary file. Killed with SIGKILL when dropped while running.
final class WorkerProcess {
    let process = Process()
    let logURL: URL

    init(configPath: String) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-chaos-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.sluiceBinary)
        process.arguments = ["run", "--config", configPath]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLUICE_") }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logURL)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The last `lines` lines of the log, with whether the process still runs: for an issue when a wait times out
    /// (the log file goes with the process).
    func logTail(_ lines: Int = 40) -> String {
        let tail = log.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
        return "pid \(pid) (\(isRunning ? "running" : "exited \(process.terminationStatus)")), last \(lines) log lines:\n\(tail)"
    }

    /// Whether a claim's owner (`host/pid/nonce`) is this process.
    func owns(_ owner: String) -> Bool {
        let parts = owner.split(separator: "/")
        return parts.count >= 2 && parts[parts.count - 2] == "\(pid)"
    }

    func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits (without blocking a thread) until the process has exited.
    func waitForExit(timeout: Duration = .seconds(60)) async throws {
        try await waitFor("worker \(pid) exits", timeout: timeout) { !process.isRunning }
    }

    /// SIGKILL, and the process is gone.
    func killNine() async throws {
        signal(SIGKILL)
        try await waitForExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    /// SIGTERM; returns the exit status once the process has exited.
    func terminate(timeout: Duration = .seconds(60)) async throws -> Int32 {
        signal(SIGTERM)
        try await waitForExit(timeout: timeout)
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    /// The port its HTTP admin server listens on, from its `http admin listening` log line (`logging.level: info`).
    func httpPort(timeout: Duration = .seconds(60)) async throws -> Int {
        var port: Int?
        try await waitFor("worker \(pid) logs its HTTP port", timeout: timeout) {
            #expect(process.isRunning, "worker \(pid) exited before listening: \(log.suffix(2_000))")
            guard process.isRunning else { throw CancellationError() }
            port = log.split(separator: "\n").first { $0.contains("http admin listening") }
                .flatMap { $0.firstMatch(of: /port=(\d+)/).flatMap { Int($0.1) } }
            return port != nil
        }
        return port!
    }
}

/// A plain HTTP GET against a worker's admin server; nil when it does not answer.
func httpGet(port: Int, _ path: String, timeout: TimeInterval = 5) async -> (status: Int, body: String)? {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.timeoutInterval = timeout
    guard let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else { return nil }
    return (http.statusCode, String(decoding: data, as: UTF8.self))
}

/// The sum of a Prometheus counter's samples over all label sets (`name{…} value` and `name value` lines).
func metricSum(_ text: String, _ name: String) -> Double {
    var total = 0.0
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
    }
    return total
}

/// Runs `body` until it returns true and says how long that took.
func timeUntil(_ what: String, timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws -> Duration {
    let started = ContinuousClock.now
    try await waitFor(what, timeout: timeout, condition)
    return ContinuousClock.now - started
}

/// A PostgreSQL server of a test's own, in a temporary directory on a free loopback port with trust
/// authentication, so a test can stop and restart it without disturbing the shared one. Run as the `postgres`
/// user when the tests run as root (as `scripts/dev-postgres` does).
final class PrivatePostgres: Sendable {
    let directory: String
    let port: Int
    private let bindir: String
    private let asRoot: Bool
    private let destroyed = Mutex(false)

    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    private init(directory: String, port: Int, bindir: String, asRoot: Bool) {
        self.directory = directory
        self.port = port
        self.bindir = bindir
        self.asRoot = asRoot
    }

    /// initdb into a new temporary directory, then start.
    static func start() async throws -> PrivatePostgres {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let bindir = versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }).map({ "/usr/lib/postgresql/\($0)/bin" })
            .first(where: { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }) else {
            throw WorkerError(message: "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; install the 'postgresql' package")
        }
        let directory = "/tmp/sluice-chaos-pg-\(UUID().uuidString.prefix(8))"
        let server = PrivatePostgres(directory: directory, port: try freeLoopbackPort(), bindir: bindir, asRoot: getuid() == 0)
        try await server.run(["/bin/mkdir", "-p", "\(directory)/socket"])
        try await server.run(["\(bindir)/initdb", "-D", "\(directory)/data", "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                              "--locale=C.UTF-8", "--no-sync"])
        try await server.start()
        return server
    }

    /// Starts the server and waits until it accepts connections.
    func start() async throws {
        try await run(["\(bindir)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-w", "-t", "60",
                       "-o", "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories='\(directory)/socket' -c max_connections=60 -c fsync=off",
                       "start"])
    }

    /// Stops the server: `fast` (sessions terminated, clean shutdown) or `immediate` (a crash; recovery at start).
    func stop(mode: String = "fast") async throws {
        try await run(["\(bindir)/pg_ctl", "-D", "\(directory)/data", "-m", mode, "-w", "-t", "60", "stop"])
    }

    /// Stops the server and removes its directory.
    func destroy() async {
        guard destroyed.withLock({ done in defer { done = true }; return !done }) else { return }
        try? await stop(mode: "immediate")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a command (as `postgres` when root) and waits for it without Foundation's `Process`: `pg_ctl start`
    /// leaves a daemon behind that would inherit the descriptors `Process` watches for the command's exit (so its
    /// exit would never be seen), and the descriptors of the test's other child processes. The command runs through
    /// bash, which closes every inherited descriptor above 2 first.
    private func run(_ arguments: [String]) async throws {
        let output = "\(FileManager.default.temporaryDirectory.path)/sluice-chaos-pg-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let command = (asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + arguments
        let script = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; exec "$@" </dev/null >"$OUT" 2>&1"#
        let argv = ["/bin/bash", "-c", script, "bash"] + command
        let environment = ProcessInfo.processInfo.environment.merging(["OUT": output]) { $1 }.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let spawned = withCStrings(argv) { argvPointers in
            withCStrings(environment) { environmentPointers in
                posix_spawn(&pid, "/bin/bash", nil, nil, argvPointers, environmentPointers)
            }
        }
        guard spawned == 0 else { throw WorkerError(message: "posix_spawn \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw WorkerError(message: "waitpid \(arguments[0]): \(String(cString: strerror(errno)))") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw WorkerError(message: "\(arguments.joined(separator: " ")) failed (wait status \(status)): \(text.suffix(1_000))")
        }
    }

    /// A port nothing listens on now (the kernel's pick for port 0 on 127.0.0.1).
    private static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WorkerError(message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw WorkerError(message: "bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Events arriving steadily in the background (`count` every `pause`), so a fault always meets a flowing stream
/// and there is always a next micro-batch to measure recovery by. The pause paces the producer; nothing waits
/// on it for work. `produce` adds a burst in the same event-time sequence.
final class EventFlow: Sendable {
    private let running = Mutex(true)
    private let clock: Mutex<EventClock>
    private let environment: WorkerEnvironment
    private let seed = Mutex<UInt64>(0)
    private let task = Mutex<Task<Int, any Error>?>(nil)

    init(_ environment: WorkerEnvironment, clock: EventClock, seed: UInt64, count: Int = 100, pause: Duration = .milliseconds(250)) {
        self.environment = environment
        self.clock = Mutex(clock)
        self.seed.withLock { $0 = seed }
        let task = Task { [self] in
            var produced = 0
            while running.withLock({ $0 }) {
                try await produce(count)
                produced += count
                try await Task.sleep(for: pause)
            }
            return produced
        }
        self.task.withLock { $0 = task }
    }

    /// Produces `count` events now, next in event time.
    func produce(_ count: Int) async throws {
        let start = clock.withLock { $0.chunk(count) }
        let seed = self.seed.withLock { seed in
            defer { seed += 1 }
            return seed
        }
        try await environment.produce(count, seed: seed, startMillis: start)
    }

    /// Stops the flow; returns how many events it produced.
    @discardableResult
    func stop() async throws -> Int {
        running.withLock { $0 = false }
        return try await task.withLock { $0 }!.value
    }
}
