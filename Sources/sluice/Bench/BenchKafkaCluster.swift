import ArgumentParser
import Foundation
import Logging
import SluiceKafka

/// The Kafka cluster of `bench pipeline`: a `sluice dev-cluster` process of its own (so the broker's CPU is
/// measured apart from the worker's), or a cluster given by its address.
final class BenchKafkaCluster {
    let bootstrapServers: String
    /// The dev cluster process when the bench started one.
    private let child: ChildProcess?
    /// Creates topics on a dev cluster (its control channel); nil: the admin API.
    private let control: DevClusterControl?
    private let logger: Logger

    /// Starts a one-broker dev cluster process, or uses `bootstrapServers` (a dev cluster started by
    /// `scripts/dev-kafka` takes its topics through `controlPort`; another cluster through the admin API).
    init(bootstrapServers: String?, controlPort: UInt16?, logger: Logger) async throws {
        self.logger = logger
        if let bootstrapServers {
            self.bootstrapServers = bootstrapServers
            self.child = nil
            self.control = controlPort.map { DevClusterControl(port: $0) }
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-cluster-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bootstrapFile = directory + "/bootstrap"
        let portFile = directory + "/control-port"
        let child = try ChildProcess(name: "dev cluster", arguments: [
            "dev-cluster", "--brokers", "1", "--bootstrap-file", bootstrapFile, "--control-port-file", portFile, "--log-level", "error"])
        let deadline = ContinuousClock.now + .seconds(30)
        while !(FileManager.default.fileExists(atPath: bootstrapFile) && FileManager.default.fileExists(atPath: portFile)) {
            guard child.isRunning, ContinuousClock.now < deadline else {
                child.terminate()
                throw ValidationError("the dev cluster process did not come up within 30 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        func read(_ path: String) throws -> String {
            try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let port = UInt16(try read(portFile)) else {
            child.terminate()
            throw ValidationError("the dev cluster process wrote no control port")
        }
        self.bootstrapServers = try read(bootstrapFile)
        self.child = child
        self.control = DevClusterControl(port: port)
    }

    /// Whether the bench runs the cluster in a process of its own (and can measure its CPU).
    var isOwnProcess: Bool { child != nil }

    func createTopics(_ topics: [(name: String, partitions: Int)]) async throws {
        if let control {
            for topic in topics { try await control.createTopic(topic.name, partitions: topic.partitions) }
        } else {
            let admin = try KafkaAdmin(bootstrapServers: bootstrapServers, logger: logger)
            try await admin.createTopics(topics.map { KafkaNewTopic(name: $0.name, partitions: $0.partitions) })
        }
    }

    /// CPU seconds the dev cluster process has used; nil for a cluster the bench did not start.
    func cpuSeconds() -> Double? {
        child.flatMap { Measure.cpuSeconds(pid: $0.pid) }
    }

    /// Stops the dev cluster process the bench started.
    func stop() async {
        guard let child else { return }
        child.terminate()
        _ = try? await child.waitForExit(timeout: .seconds(10))
    }
}
