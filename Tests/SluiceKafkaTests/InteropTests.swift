import Foundation
import SluiceKafka
import SluiceTestSupport
import Testing

/// Interoperability with kcat, a Kafka client nobody here wrote.
@Suite("kcat interop", .timeLimit(.minutes(3)))
struct InteropTests {
    @Test func kcatProducesAndSluiceConsumes() async throws {
        let kcat = try #require(TestKafka.kcat, "kcat must be installed (apt-get install kcat)")
        let topic = TestKafka.uniqueTopic("kcat-in")
        try await TestKafka.createTopic(topic, partitions: 3)
        let lines = (0..<1_000).map { "k\($0 % 10)|{\"n\":\($0),\"text\":\"héllo \($0)\"}" }.joined(separator: "\n") + "\n"
        let status = try runProcess(kcat, ["-P", "-b", try TestKafka.bootstrapServers, "-t", topic, "-K", "|", "-H", "origin=kcat"], input: Data(lines.utf8)).status
        #expect(status == 0)

        let consumer = try TestKafka.consumer(group: "g-\(topic)")
        try consumer.subscribe(topics: [topic])
        let messages = try await consume(consumer, count: 1_000)
        await consumer.close()
        var numbers = Set<Int>()
        for message in messages {
            let value = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
            let n = try #require(value["n"] as? Int)
            numbers.insert(n)
            #expect(value["text"] as? String == "héllo \(n)")
            #expect(message.key.map { String(decoding: $0, as: UTF8.self) } == "k\(n % 10)")
            #expect(message.headers == [KafkaHeader(name: "origin", text: "kcat")])
        }
        #expect(numbers == Set(0..<1_000))
    }

    @Test func sluiceProducesAndKcatConsumes() async throws {
        let kcat = try #require(TestKafka.kcat, "kcat must be installed (apt-get install kcat)")
        let topic = TestKafka.uniqueTopic("kcat-out")
        try await TestKafka.createTopic(topic, partitions: 2)
        let producer = try TestKafka.producer()
        let messages = (0..<500).map { index in
            KafkaProducerMessage(topic: topic, key: Array("key\(index)".utf8), value: Array("value \(index) ✓".utf8),
                                 headers: [KafkaHeader(name: "h", text: "v\(index)")])
        }
        _ = try await producer.sendBatch(messages)
        try await producer.close()

        let output = try runProcess(kcat, ["-C", "-b", try TestKafka.bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q",
                                           "-f", "%k\t%s\t%h\n"])
        #expect(output.status == 0)
        let rows = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n")
        #expect(rows.count == 500)
        var seen = Set<Int>()
        for row in rows {
            let fields = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            #expect(fields.count == 3)
            let index = try #require(Int(fields[0].dropFirst(3)))
            #expect(fields[1] == "value \(index) ✓")
            #expect(fields[2] == "h=v\(index)")
            seen.insert(index)
        }
        #expect(seen == Set(0..<500))
    }
}

/// Runs a process with `input` on standard input and returns its exit status and standard output.
func runProcess(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, stdout: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdout = Pipe()
    process.standardOutput = stdout
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(input) }
    try stdin.fileHandleForWriting.close()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}
