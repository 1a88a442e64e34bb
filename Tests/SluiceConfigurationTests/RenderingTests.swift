import Foundation
import Testing
@testable import SluiceConfiguration

@Suite struct RenderingTests {
    @Test func renderedConfigLoadsBackToTheSameConfig() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/sluice.yaml").path
        let original = try SluiceConfig.load(path: path, environment: [:]).config
        let rendered = original.renderEffective()
        let reloaded = try load(rendered).config
        #expect(reloaded == original)
        #expect(reloaded.renderEffective() == rendered)
    }

    @Test func designExampleRendersFeaturesInFlowStyle() throws {
        let rendered = try load(designExample).config.renderEffective()
        #expect(rendered.contains("  - {name: amount_mean_24h, aggregate: mean, of: amount, window: 1d}\n"))
        #expect(rendered.contains("  - {name: secs_since_last, aggregate: time_since_last}\n"))
        #expect(rendered.contains("  allowed_lateness: 5m\n"))
        #expect(try load(rendered).config == load(designExample).config)
    }

    @Test func environmentValuesAppearInTheEffectiveConfig() throws {
        let rendered = try load(designExample, env: ["SLUICE_FLUSH_MAX_EVENTS": "77", "SLUICE_DRIFT_WINDOW_KIND": "time",
                                                     "SLUICE_DRIFT_WINDOW_DURATION": "2h"]).config.renderEffective()
        #expect(rendered.contains("  max_events: 77\n"))
        #expect(rendered.contains("    kind: time\n    duration: 2h\n"))
        #expect(rendered.contains("  step: 12m\n"))
    }

    @Test(arguments: [
        ("plain", "plain"), ("true", "\"true\""), ("123", "\"123\""), ("1.5", "\"1.5\""), ("", "\"\""),
        ("a b", "\"a b\""), ("x#y", "\"x#y\""), ("-x", "\"-x\""), ("127.0.0.1:9092", "\"127.0.0.1:9092\""), ("kafka-1:9092", "kafka-1:9092"),
        ("say \"hi\"\n", "\"say \\\"hi\\\"\\n\""), ("1:30", "\"1:30\""), (".dlq", ".dlq"), ("null", "\"null\""),
    ])
    func stringsAreQuotedWhenAReaderCouldMisreadThem(value: String, yaml: String) throws {
        #expect(YAMLWriter.scalar(value) == yaml)
    }

    @Test func quotedScalarsReadBackAsTheSameString() throws {
        for value in ["true", "123", "a b", "x#y", "-x", "say \"hi\"\n", "tab\there", "1:30", "{x}", "[y]", "é", "\u{1}"] {
            let yaml = minimalSource + "\n" + minimalFeatures + "\nsnapshots:\n  directory: " + YAMLWriter.scalar(value) + "\n"
            #expect(try load(yaml).config.snapshots.directory == value)
        }
    }
}
