import Foundation
import SluicePostgres
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason), .timeLimit(.minutes(1)))
struct PostgresConnectTests {
    @Test func parametersReachLibpqAndTheServer() async throws {
        guard let base = TestDatabase.url else { throw TestDatabase.MissingURL() }
        let separator = base.contains("?") ? "&" : "?"
        let config = try PostgresConfiguration(base + separator + "sslmode=disable", applicationName: "sluice-conn-test")
        let conn = try await PostgresConnection.connect(configuration: config)
        #expect(try await conn.connectionOption("sslmode") == "disable")
        #expect(try await conn.connectionOption("application_name") == "sluice-conn-test")
        let name = try #require(try await conn.query("SELECT current_setting('application_name')").first).decode(String.self, column: 0)
        #expect(name == "sluice-conn-test")
        await conn.close()
        await #expect(throws: PostgresError.self) { try await conn.query("SELECT 1") }
    }

    @Test func closedPortFailsFastWithAClearError() async throws {
        let port = try closedPort()
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(url: "postgres://postgres@127.0.0.1:\(port)/sluice?connect_timeout=5")
        }
        #expect(clock.now - start < .seconds(5))
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("127.0.0.1"))
        #expect(error.message.contains("\(port)"))
        #expect(error.message.contains("refused"))
    }

    @Test func silentServerHitsTheConnectTimeout() async throws {
        // A socket that accepts TCP connections (backlog) but never speaks.
        let (fd, port) = try listeningSocket()
        defer { close(fd) }
        let config = try PostgresConfiguration("postgres://postgres@127.0.0.1:\(port)/sluice", connectTimeoutSeconds: 2)
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(configuration: config)
        }
        let elapsed = clock.now - start
        #expect(error.code == .connectionFailed)
        #expect(elapsed >= .seconds(1.5))
        #expect(elapsed < .seconds(10), "connect must give up near connect_timeout, took \(elapsed)")
    }

    @Test func unknownDatabaseIsReported() async throws {
        var config = try TestDatabase.configuration()
        config = try PostgresConfiguration(config.description.replacingDBName(with: "no_such_db_sluice"))
        let error = try await #require(throws: PostgresError.self) { try await PostgresConnection.connect(configuration: config) }
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains("no_such_db_sluice"))
        #expect(error.message.contains("does not exist"))
    }

    @Test func invalidURLFailsBeforeConnecting() async throws {
        let error = try await #require(throws: PostgresError.self) { try await PostgresConnection.connect(url: "x") }
        #expect(error.code == .invalidConfiguration)
        #expect(error.message.contains("'x'"))
    }

    /// A loopback port nothing listens on: bind an ephemeral port, then close it.
    private func closedPort() throws -> UInt16 {
        let (fd, port) = try listeningSocket()
        close(fd)
        return port
    }

    struct SocketError: Error { var step: String }

    private func listeningSocket() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(step: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw SocketError(step: "bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { close(fd); throw SocketError(step: "getsockname") }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}
