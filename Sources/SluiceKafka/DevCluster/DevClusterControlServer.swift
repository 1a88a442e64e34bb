import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A line-based control channel for a `DevCluster` running in another process, on 127.0.0.1 only.
///
/// Each request is one line, each answer one line, `ok` or `error: <reason>`:
/// - `create-topic NAME PARTITIONS [REPLICATION]`
/// - `broker-down ID` / `broker-up ID` (-1 for all brokers)
/// - `leader TOPIC PARTITION BROKER`
/// - `rtt BROKER MILLIS`
/// - `push-errors API ERROR_NAME COUNT` (API: produce, fetch, offsetCommit, …; ERROR_NAME as librdkafka names it)
/// - `clear-errors API`
/// - `bootstrap` (answers `ok <bootstrap servers>`)
package final class DevClusterControlServer: Sendable {
    /// The TCP port the server listens on (127.0.0.1).
    package let port: UInt16
    private let listener: Int32
    private let cluster: DevCluster

    /// Listens on 127.0.0.1:`port` (0 picks a free port) and serves requests on a thread of its own.
    package init(cluster: DevCluster, port: UInt16 = 0) throws(KafkaError) {
        self.cluster = cluster
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw KafkaError(code: .devCluster, message: "control socket: \(String(cString: strerror(errno)))") }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw KafkaError(code: .devCluster, message: "could not listen for control connections on 127.0.0.1:\(port): \(reason)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: actual.sin_port)
        self.listener = fd
        let thread = Thread { [cluster] in
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return
                }
                Self.serve(connection, cluster: cluster)
                close(connection)
            }
        }
        thread.name = "sluice-dev-cluster-control"
        thread.start()
    }

    /// Stops accepting connections.
    package func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private static func serve(_ connection: Int32, cluster: DevCluster) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let answer = Array((execute(line, on: cluster) + "\n").utf8)
                let written = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                if written != answer.count { return }
            }
        }
    }

    /// Runs one control command and returns its answer line.
    static func execute(_ line: String, on cluster: DevCluster) -> String {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return "error: empty command" }
        func int(_ index: Int, _ name: String) throws(KafkaError) -> Int {
            guard index < words.count, let value = Int(words[index]) else {
                throw KafkaError(code: .devCluster, message: "'\(command)' needs an integer \(name) as argument \(index)")
            }
            return value
        }
        func word(_ index: Int, _ name: String) throws(KafkaError) -> String {
            guard index < words.count else { throw KafkaError(code: .devCluster, message: "'\(command)' needs \(name) as argument \(index)") }
            return words[index]
        }
        do {
            switch command {
            case "create-topic":
                try cluster.createTopic(try word(1, "a topic name"), partitions: try int(2, "partition count"),
                                        replicationFactor: words.count > 3 ? try int(3, "replication factor") : 1)
            case "broker-down": try cluster.setBrokerDown(Int32(try int(1, "broker id")))
            case "broker-up": try cluster.setBrokerUp(Int32(try int(1, "broker id")))
            case "leader":
                try cluster.setPartitionLeader(topic: try word(1, "a topic"), partition: Int32(try int(2, "partition")), brokerID: Int32(try int(3, "broker id")))
            case "rtt": try cluster.setRoundTripTime(brokerID: Int32(try int(1, "broker id")), millis: try int(2, "milliseconds"))
            case "push-errors", "clear-errors":
                let apiName = try word(1, "an API name")
                guard let api = KafkaAPIKey.named(apiName) else {
                    return "error: unknown API '\(apiName)'; expected one of \(KafkaAPIKey.allCases.map { "\($0)" }.joined(separator: ", "))"
                }
                if command == "clear-errors" {
                    cluster.clearRequestErrors(api)
                } else {
                    try cluster.pushRequestErrors(api, errorName: try word(2, "an error name"), count: try int(3, "count"))
                }
            case "bootstrap":
                return "ok \(cluster.bootstrapServers)"
            default:
                return "error: unknown command '\(command)'; expected create-topic, broker-down, broker-up, leader, rtt, push-errors, clear-errors or bootstrap"
            }
            return "ok"
        } catch {
            return "error: \(error.message)"
        }
    }
}

extension KafkaAPIKey {
    /// The API whose Swift case name is `name` (e.g. `offsetCommit`), case-insensitively.
    package static func named(_ name: String) -> KafkaAPIKey? {
        allCases.first { "\($0)".lowercased() == name.lowercased() }
    }
}
