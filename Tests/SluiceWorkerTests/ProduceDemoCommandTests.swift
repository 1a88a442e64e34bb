import Foundation
import SluiceFeatures
import SluiceKafka
import Testing

/// `sluice produce-demo` as a user runs it, against the dev cluster: every event arrives, keyed by its entity id
/// (so one entity's events share a partition), and the malformed ones the worker cannot place have no key.
@Suite("sluice produce-demo", .timeLimit(.minutes(4)))
struct ProduceDemoCommandTests {
    @Test func eventsArriveKeyedByTheEntityTheWorkerDecodes() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: CrashRecoveryTests.sluiceBinary), "build sluice first (swift build)")
        let environment = try await WorkerEnvironment(partitions: 3)
        defer { Task { try? await environment.dropSchema() } }
        let count = 1_200
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.sluiceBinary)
        process.arguments = ["produce-demo", "--brokers", environment.brokers, "--topic", environment.topic, "--events", String(count),
                             "--entities", "50", "--malformed-fraction", "0.2", "--seed", "7"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try await waitFor("produce-demo exits", timeout: .seconds(120)) { !process.isRunning }
        #expect(process.terminationStatus == 0)

        let messages = try await environment.consume(environment.topic, count: count)
        #expect(messages.count == count)
        let decoder = try EventDecoder(configuration: DemoEventGenerator.decoderConfiguration(maxPayloadBytes: 100_000))
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        var keyed = 0
        var partitionOfKey: [String: Int32] = [:]
        for message in messages {
            switch decoder.decode(Array(message.value), nowMillis: now) {
            case .success(let event):
                let key = try #require(message.key, "a decodable event has a key")
                #expect(String(decoding: key, as: UTF8.self) == event.entityID)
                #expect(partitionOfKey.updateValue(message.partition, forKey: event.entityID) ?? message.partition == message.partition)
                keyed += 1
            case .failure:
                #expect(message.key == nil, "\(String(decoding: message.value.prefix(120), as: UTF8.self))")
            }
        }
        #expect(keyed > count / 2 && keyed < count)
    }
}
