import SluicePostgres
import Testing

@Suite(.enabled(if: TestDatabase.enabled, TestDatabase.disabledReason), .timeLimit(.minutes(1)))
struct PostgresListenTests {
    @Test func deliversPayloadsInOrderWithSenderPid() async throws {
        let listener = try await TestDatabase.connect()
        let notifier = try await TestDatabase.connect()
        let channel = TestDatabase.uniqueName("Chan nel")  // needs quoting
        let stream = try await listener.listen(channel: channel)
        let payloads = ["first", "second 🚀", "", "'; DROP TABLE x; --"]
        for payload in payloads { try await notifier.notify(channel: channel, payload: payload) }
        // A notification on another channel must not show up.
        try await notifier.notify(channel: channel + "_other", payload: "ignored")
        var received: [PostgresNotification] = []
        for try await notification in stream {
            received.append(notification)
            if received.count == payloads.count { break }
        }
        #expect(received.map(\.payload) == payloads)
        #expect(received.allSatisfy { $0.channel == channel })
        #expect(received.allSatisfy { $0.pid == notifier.backendPID })
        await listener.close()
        await notifier.close()
    }

    @Test func cancellingTheIterationUnlistensAndFreesTheConnection() async throws {
        let listener = try await TestDatabase.connect()
        let notifier = try await TestDatabase.connect()
        let channel = TestDatabase.uniqueName("cancel")
        let stream = try await listener.listen(channel: channel)
        let listening = try #require(try await notifier.query(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [listener.backendPID]).first)
        #expect(try listening.decode(Int64.self, column: 0) == 1)
        let consumer = Task {
            var count = 0
            for try await _ in stream { count += 1 }
            return count
        }
        try await notifier.notify(channel: channel, payload: "one")
        // Wait (with a deadline) until the listener has the notification queued or delivered, then cancel.
        consumer.cancel()
        let delivered = try await consumer.value
        #expect(delivered <= 1)
        // The listener's thread left the poll loop: statements run again, and it no longer listens.
        let channels = try await listener.query("SELECT coalesce(array_agg(c), '{}') FROM pg_listening_channels() c")
        #expect(try channels.first?.decode([String].self, column: 0) == [])
        #expect(try await listener.query("SELECT 2::int4").first?.decode(Int32.self, column: 0) == 2)
        await listener.close()
        await notifier.close()
    }

    @Test func listenerSeesConnectionLoss() async throws {
        let listener = try await TestDatabase.connect()
        let killer = try await TestDatabase.connect()
        let stream = try await listener.listen(channel: TestDatabase.uniqueName("loss"))
        try await killer.execute("SELECT pg_terminate_backend($1)", [listener.backendPID])
        let error = try await #require(throws: PostgresError.self) {
            for try await _ in stream {}
        }
        #expect(error.code == .connectionLost)
        // Next use reconnects.
        #expect(try await listener.query("SELECT 3::int4").first?.decode(Int32.self, column: 0) == 3)
        await listener.close()
        await killer.close()
    }
}
