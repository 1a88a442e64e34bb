import Testing
import Foundation
@testable import SluiceConfiguration

@Suite struct DesignExampleTests {
    @Test func designExampleLoadsWithItsDeclaredValues() throws {
        let result = try load(designExample)
        let config = result.config
        #expect(result.warnings.isEmpty)
        #expect(config.source.topics == ["transactions"])
        #expect(config.source.entity == "user_id")
        #expect(config.source.eventTime == "ts")
        #expect(config.source.allowedLateness == .seconds(5 * 60))
        #expect(config.source.fields == [
            FieldDeclaration(name: "amount", type: .double),
            FieldDeclaration(name: "merchant", type: .string),
            FieldDeclaration(name: "country", type: .string),
        ])
        #expect(config.features == [
            FeatureDeclaration(name: "amount", kind: .value(field: "amount")),
            FeatureDeclaration(name: "txn_count_1h", kind: .aggregate(.count, of: nil, windowMilliseconds: Milliseconds.hour, tileMilliseconds: nil)),
            FeatureDeclaration(name: "amount_mean_24h", kind: .aggregate(.mean, of: "amount", windowMilliseconds: 24 * Milliseconds.hour, tileMilliseconds: nil)),
            FeatureDeclaration(name: "merchants_7d", kind: .aggregate(.approxDistinct, of: "merchant", windowMilliseconds: 7 * Milliseconds.day, tileMilliseconds: nil)),
            FeatureDeclaration(name: "secs_since_last", kind: .aggregate(.timeSinceLast, of: nil, windowMilliseconds: nil, tileMilliseconds: nil)),
        ])
    }

    @Test func designExampleTakesTheDocumentedDefaultsEverywhereElse() throws {
        let config = try load(designExample).config
        #expect(config.kafka.brokers == "127.0.0.1:9092")
        #expect(config.kafka.group == "sluice")
        #expect(config.kafka.producer.idempotence == true)
        #expect(config.postgres.url.value == "postgres://postgres@127.0.0.1:5432/sluice")
        #expect(config.postgres.poolSize == 4)
        #expect(config.postgres.schema == "sluice")
        #expect(config.source.eventTimeFormat == .auto)
        #expect(config.source.maxPayloadBytes == 1024 * 1024)
        #expect(config.source.maxFutureSkew == .seconds(3600))
        #expect(config.flush.maxEvents == 5000)
        #expect(config.flush.maxInterval == .milliseconds(200))
        #expect(config.flush.commitInterval == .milliseconds(100))
        #expect(config.deadLetter.topic(forInput: "transactions") == "transactions.dlq")
        #expect(config.outputs.predictionsTopic == "predictions")
        #expect(config.outputs.alertsTopic == "drift-alerts")
        #expect(config.outputs.retrainTopic == "retrain-requests")
        #expect(config.outputs.labelsTopic == "labels")
        #expect(config.model.name == "default")
        #expect(config.model.explainTopK == 0)
        #expect(config.model.refreshInterval == .seconds(30))
        #expect(config.model.shadow == false)
        #expect(config.drift.enabled)
        #expect(config.drift.window == .count(events: 100_000))
        #expect(config.drift.referenceEvents == 10_000)
        #expect(config.drift.alertConsecutive == 3)
        #expect(config.drift.alertCooldown == .seconds(15 * 60))
        #expect(config.drift.datasetShare == 0.5)
        #expect(config.labels.enabled)
        #expect(config.snapshots.cooldown == .seconds(3_600))
        #expect(config.labels.horizon == .seconds(7 * 86_400))
        #expect(config.labels.retryAttempts == 5)
        #expect(config.labels.retryBackoff == .seconds(10))
        #expect(config.snapshots.directory == "./snapshots")
        #expect(config.snapshots.onAlert)
        #expect(config.snapshots.schedule == nil)
        #expect(config.snapshots.holdoutFraction == 0.2)
        #expect(config.snapshots.rowGroupRows == 65536)
        #expect(config.http.address == "127.0.0.1:8080")
        #expect(config.http.token == nil)
        #expect(config.shutdown.timeout == .seconds(25))
        #expect(config.logging.level == .info)
    }

    @Test func sampleConfigFileLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/sluice.yaml").path
        let result = try SluiceConfig.load(path: path, environment: [:])
        #expect(result.warnings.isEmpty)
        #expect(result.config.features.count >= 5)
        #expect(result.config.source.topics == ["transactions"])
    }

    @Test func missingConfigFileIsOneReadableError() {
        #expect(throws: ConfigErrors.self) {
            _ = try SluiceConfig.load(path: "/nonexistent/sluice.yaml", environment: [:])
        }
        do {
            _ = try SluiceConfig.load(path: "/nonexistent/sluice.yaml", environment: [:])
        } catch {
            #expect(error.errors.first?.code == .unreadableFile)
            #expect(error.description.contains("/nonexistent/sluice.yaml"))
        }
    }
}
