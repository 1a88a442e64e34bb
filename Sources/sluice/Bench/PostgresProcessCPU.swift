import SluicePostgres

/// CPU seconds PostgreSQL's server processes spend during a benchmark, read from `/proc/<pid>/stat` (the server
/// must run on this host): the backends of the connections a benchmark names (the worker's), and every other
/// server process `pg_stat_activity` lists (WAL writer, checkpointer, background writer, autovacuum workers,
/// other sessions). Processes that start during the measurement count from zero; processes that end between
/// two samples lose their last interval, so sample about once a second.
final class PostgresProcessCPU {
    private let observer: PostgresConnection
    private let named: Set<Int32>
    private let excluded: Set<Int32>
    /// Per process: CPU seconds at the start (0 for processes that appeared later) and at the latest sample.
    private var processes: [Int32: (start: Double, latest: Double)] = [:]
    /// False when the server's processes are not visible here (another host or container).
    private(set) var isLocal = true

    /// - Parameters:
    ///   - observer: a connection for `pg_stat_activity`; its own backend is left out.
    ///   - named: backend process ids reported on their own (`SELECT pg_backend_pid()` on their connections).
    init(observer: PostgresConnection, named: [Int32]) async throws {
        self.observer = observer
        self.named = Set(named)
        self.excluded = [try await Self.backendPID(observer)]
        for pid in try await serverPIDs() {
            guard let seconds = Measure.cpuSeconds(pid: pid) else { continue }
            processes[pid] = (seconds, seconds)
        }
        isLocal = named.allSatisfy { Measure.commandName(pid: $0) == "postgres" }
    }

    /// The server process id serving a connection.
    static func backendPID(_ connection: PostgresConnection) async throws -> Int32 {
        try await connection.query("SELECT pg_backend_pid()").first!.decode(Int32.self, column: 0)
    }

    /// Reads the CPU time of every server process now.
    func sample() async throws {
        for pid in try await serverPIDs() {
            guard let seconds = Measure.cpuSeconds(pid: pid) else { continue }
            processes[pid, default: (0, 0)].latest = seconds
        }
    }

    /// CPU seconds since the start of the named backends, and of every other server process; nil when the server
    /// is not on this host.
    var seconds: (named: Double, others: Double)? {
        guard isLocal else { return nil }
        var named = 0.0
        var others = 0.0
        for (pid, cpu) in processes {
            if self.named.contains(pid) { named += cpu.latest - cpu.start } else { others += cpu.latest - cpu.start }
        }
        return (named, others)
    }

    /// CPU seconds of one named backend since the start; nil when the server is not on this host.
    func seconds(of pid: Int32) -> Double? {
        guard isLocal, named.contains(pid), let cpu = processes[pid] else { return nil }
        return cpu.latest - cpu.start
    }

    private func serverPIDs() async throws -> [Int32] {
        try await observer.query("SELECT pid FROM pg_stat_activity").map { try $0.decode(Int32.self, column: 0) }
            .filter { !excluded.contains($0) }
    }
}
