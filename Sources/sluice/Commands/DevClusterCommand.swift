import ArgumentParser
import Foundation
import Logging
import SluiceKafka

/// `sluice dev-cluster`: a local Kafka cluster (librdkafka's mock cluster) on 127.0.0.1 for development and tests.
struct DevClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-cluster",
        abstract: "Run a local Kafka dev cluster (librdkafka's mock cluster) on 127.0.0.1 until SIGTERM/SIGINT.",
        discussion: """
        Prints the bootstrap servers on standard output (one line) and writes them to --bootstrap-file.
        Limits: topics not created here are auto-created with 4 partitions; each partition keeps about
        5 MiB or 100,000 message sets; read_committed is not honoured; CreateTopics is not supported.
        """
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 1

    @Option(name: .customLong("topic"), help: "Topic to create, as NAME:PARTITIONS[:REPLICATION] (repeatable).")
    var topics: [String] = []

    @Option(help: "Write the bootstrap servers to this file (written atomically once the cluster is up).")
    var bootstrapFile: String?

    @Option(help: "Serve the line-based control channel (create topics, inject faults) on 127.0.0.1 and write its port to this file.")
    var controlPortFile: String?

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        CommandLogging.bootstrap(level: logLevel)
        let logger = CommandLogging.logger("sluice.dev-cluster")
        let cluster = try DevCluster(brokers: brokers, logger: logger)
        for spec in topics {
            let parts = spec.split(separator: ":").map(String.init)
            guard parts.count >= 2, parts.count <= 3, let partitions = Int(parts[1]),
                  let replication = parts.count == 3 ? Int(parts[2]) : 1 else {
                throw ValidationError("invalid --topic '\(spec)': expected NAME:PARTITIONS or NAME:PARTITIONS:REPLICATION, e.g. transactions:8")
            }
            try cluster.createTopic(parts[0], partitions: partitions, replicationFactor: replication)
        }
        var control: DevClusterControlServer? = nil
        if let controlPortFile {
            let server = try DevClusterControlServer(cluster: cluster)
            control = server
            try Self.writeAtomically("\(server.port)\n", to: controlPortFile)
        }
        if let bootstrapFile {
            try Self.writeAtomically(cluster.bootstrapServers + "\n", to: bootstrapFile)
        }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        let signal = await Signals.waitForTermination()
        logger.info("stopping dev cluster", metadata: ["signal": "\(signal)"])
        control?.stop()
        withExtendedLifetime(cluster) {}
    }

    /// Writes `text` to a temporary file and renames it, so readers never see a partial file.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else {
            throw ValidationError("could not write '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
