import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A client of `DevClusterControlServer`: drives a dev cluster in another process (create topics, inject faults).
package struct DevClusterControl: Sendable {
    package let port: UInt16
    private let blocking = BlockingExecutor(label: "sluice.dev-cluster.control")

    /// Connects to the control server on 127.0.0.1:`port`.
    package init(port: UInt16) {
        self.port = port
    }

    /// Sends one command line and returns the answer after `ok`; throws the server's error otherwise.
    @discardableResult
    package func send(_ command: String) async throws -> String {
        let port = self.port
        return try await blocking.run { try Self.exchange(command, port: port) }
    }

    /// Creates a topic on the dev cluster.
    package func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) async throws {
        try await send("create-topic \(name) \(partitions) \(replicationFactor)")
    }

    private static func exchange(_ command: String, port: UInt16) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw KafkaError(code: .devCluster, message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            throw KafkaError(code: .devCluster, message: "could not reach the dev cluster's control port 127.0.0.1:\(port): \(String(cString: strerror(errno))); is `sluice dev-cluster --control-port-file` running?")
        }
        let request = Array((command + "\n").utf8)
        guard request.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == request.count else {
            throw KafkaError(code: .devCluster, message: "could not send '\(command)' to the dev cluster control port")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !answer.contains(10) {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let line = String(decoding: answer.prefix { $0 != 10 }, as: UTF8.self)
        if line == "ok" { return "" }
        if line.hasPrefix("ok ") { return String(line.dropFirst(3)) }
        throw KafkaError(code: .devCluster, message: "dev cluster refused '\(command)': \(line.hasPrefix("error: ") ? String(line.dropFirst(7)) : line)")
    }
}
