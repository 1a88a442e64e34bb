import Foundation
import Testing
@testable import SluiceConfiguration

/// Checks against fixtures produced by scripts/fixtures/generate_config_fixtures.py (RapidFuzz, PyYAML).
@Suite struct ReferenceFixtureTests {
    struct DistanceFile: Decodable {
        struct Case: Decodable { var a: String; var b: String; var distance: Int }
        var cases: [Case]
    }

    struct ScalarFile: Decodable {
        struct Case: Decodable { var text: String; var plainReadsBackAsString: Bool }
        var cases: [Case]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test func editDistanceMatchesRapidFuzzOSA() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("edit_distance.json"))
        let file = try JSONDecoder().decode(DistanceFile.self, from: data)
        #expect(file.cases.count > 20)
        for item in file.cases {
            #expect(EditDistance.distance(item.a, item.b) == item.distance, "\(item.a) → \(item.b)")
        }
    }

    @Test func writerQuotesEveryScalarThatPyYAMLWouldNotReadBackAsTheSameString() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("yaml_plain_scalars.json"))
        let file = try JSONDecoder().decode(ScalarFile.self, from: data)
        #expect(file.cases.contains { !$0.plainReadsBackAsString })
        for item in file.cases where !item.plainReadsBackAsString {
            #expect(YAMLWriter.scalar(item.text).hasPrefix("\""), "'\(item.text)' must be quoted")
        }
    }
}
