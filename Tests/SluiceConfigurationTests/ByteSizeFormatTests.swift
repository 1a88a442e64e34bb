import Testing
@testable import SluiceConfiguration

@Suite struct ByteSizeFormatTests {
    @Test(arguments: [
        ("512", 512),
        ("512B", 512),
        ("64KiB", 64 * 1024),
        ("1MiB", 1024 * 1024),
        ("1GiB", 1024 * 1024 * 1024),
        ("64KB", 64 * 1000),
        ("1MB", 1000 * 1000),
        ("2GB", 2 * 1000 * 1000 * 1000),
    ] as [(String, Int)])
    func parsesBinaryAndDecimalUnits(text: String, bytes: Int) throws {
        #expect(try ByteSizeFormat.parse(text).get() == bytes)
    }

    @Test(arguments: ["", "MiB", "1.5MiB", "1mib", "1 TB", "-1", "1KiBB"])
    func malformedSizesAreRefusedNamingTheValue(text: String) {
        guard case .failure(let issue) = ByteSizeFormat.parse(text) else {
            Issue.record("'\(text)' must be refused")
            return
        }
        #expect(issue.message.contains("'\(text)'"))
    }

    @Test(arguments: [(1 << 20, "1MiB"), (1_000_000, "1MB"), (3 * 1024, "3KiB"), (1001, "1001"), (0, "0")] as [(Int, String)])
    func formatsWithTheLargestExactUnitAndReadsBack(bytes: Int, text: String) throws {
        #expect(ByteSizeFormat.format(bytes) == text)
        #expect(try ByteSizeFormat.parse(text).get() == bytes)
    }
}
