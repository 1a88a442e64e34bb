import SluiceWorker
import Testing

@Suite("Entity key filter")
struct EntityKeyFilterTests {
    /// No false negatives, ever: every inserted key is reported, including across the layers a growing filter adds.
    @Test func everyInsertedKeyIsReportedAsTheFilterGrows() {
        var filter = EntityKeyFilter(capacity: 1_000)
        let keys = (0..<200_000).map { "customer-\($0)" } + ["", "é", "ü-\u{0}", String(repeating: "k", count: 300)]
        for key in keys { filter.insert(key) }
        #expect(filter.count == keys.count)
        #expect(keys.allSatisfy { filter.mayContain($0) })
        // Capacities 1,024, 2,048 … 131,072: eight layers of 10–20 bits per key of capacity.
        #expect(filter.memoryBytes < 700_000)
    }

    /// Keys never inserted are mostly reported absent: about 1 % false positives at 10 bits per key when full, a few
    /// percent once layers add up.
    @Test func keysNeverInsertedAreMostlyReportedAbsent() {
        var full = EntityKeyFilter(capacity: 100_000)
        for index in 0..<100_000 { full.insert("user-\(index)") }
        let falsePositives = (0..<100_000).count { full.mayContain("merchant-\($0)") }
        #expect(falsePositives < 2_000, "\(falsePositives) false positives in 100,000 (one layer, full)")

        var grown = EntityKeyFilter(capacity: 1_024)
        for index in 0..<100_000 { grown.insert("user-\(index)") }
        let grownFalsePositives = (0..<100_000).count { grown.mayContain("merchant-\($0)") }
        #expect(grownFalsePositives < 5_000, "\(grownFalsePositives) false positives in 100,000 (seven layers)")

        let empty = EntityKeyFilter()
        #expect(!(0..<10_000).contains { empty.mayContain("user-\($0)") })
    }
}
