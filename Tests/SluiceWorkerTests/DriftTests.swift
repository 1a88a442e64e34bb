import Foundation
import SluiceConfiguration
import SluiceFeatureStore
import SluiceFeatures
import SluiceInference
import SluiceKafka
import SluiceMonitoring
import SluicePostgres
import SluiceWorker
import Testing

/// Normal(mean, sd) by Box–Muller from a seeded SplitMix64, so streams are reproducible.
struct NormalStream {
    var state: UInt64
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
    }
    mutating func normal(_ mean: Double, _ sd: Double) -> Double {
        mean + sd * (-2 * log(max(unit(), 1e-300))).squareRoot() * cos(2 * .pi * unit())
    }
}

/// A drift-alert message as subscribers read it (DESIGN.md).
struct AlertMessage: Decodable {
    struct ModelRef: Decodable { var name: String; var version: Int }
    struct Window: Decodable { var start: String?; var end: String?; var events: Int }
    struct Reference: Decodable { var source: String; var events: Int }
    var alert_id: String
    var kind: String
    var state: String
    var severity: String
    var model: ModelRef
    var feature: String?
    var test: String
    var statistic: Double
    var threshold: Double
    var p_value: Double?
    var window: Window
    var reference: Reference
}

@Suite("Drift monitor", .serialized, .timeLimit(.minutes(6)))
struct DriftTests {
    static func settings(window: Int, step: Int, referenceEvents: Int, consecutive: Int) throws -> DriftSettings {
        var drift = DriftConfig()
        drift.window = .count(events: window)
        drift.step = .events(step)
        drift.referenceEvents = referenceEvents
        drift.alertConsecutive = consecutive
        drift.alertCooldown = .zero
        return try DriftSettings(drift)
    }

    static func identityModel(features: [String]) throws -> LoadedModel {
        let json = #"{"format": "sluice-linear", "version": 1, "feature_names": [\#(features.map { "\"\($0)\"" }.joined(separator: ","))], "weights": [\#(features.map { _ in "0.05" }.joined(separator: ","))], "intercept": -2.5, "link": "logistic"}"#
        return try ModelLoader.load(data: Data(json.utf8), format: .linearJSON)
    }

    /// Feeds `count` events of `features` numeric columns (+ score) to the monitor in micro-batches.
    static func feed(_ monitor: inout DriftMonitor, model: ScoringModel, count: Int, features: Int, startTime: Int64,
                     value: (Int, Int) -> Double, into outcomes: inout [DriftOutcome]) {
        let batch = 5_000
        var done = 0
        while done < count {
            let n = min(batch, count - done)
            var rows: [Double] = []
            rows.reserveCapacity(n * features)
            var scores: [Double] = []
            for i in 0..<n {
                var margin = -2.5
                for f in 0..<features {
                    let v = value(done + i, f)
                    rows.append(v)
                    margin += 0.05 * v
                }
                scores.append(1 / (1 + exp(-margin)))
            }
            let times = (0..<n).map { startTime + Int64(done + $0) * 10 }
            outcomes.append(monitor.observe(model: model, reference: nil, rows: rows, strings: [], scores: scores, eventTimes: times))
            done += n
        }
    }

    @Test func aStationaryStreamOfAMillionEventsRaisesNoAlert() throws {
        let settings = try Self.settings(window: 100_000, step: 10_000, referenceEvents: 10_000, consecutive: 3)
        let names = (0..<30).map { "f\($0)" }
        var monitor = DriftMonitor(settings: settings, featureNames: names, stringFeatures: names.map { _ in false })
        let model = try ScoringModel(name: "m", version: 1, model: try Self.identityModel(features: names), pipelineFeatures: names)
        var rng = NormalStream(state: 7)
        var outcomes: [DriftOutcome] = []
        Self.feed(&monitor, model: model, count: 1_000_000, features: 30, startTime: 0, value: { _, f in rng.normal(Double(f), 1 + Double(f % 3)) }, into: &outcomes)
        let reports = outcomes.flatMap(\.reports)
        #expect(outcomes.compactMap(\.reference).count == 1, "one reference, from the first 10,000 events")
        #expect(reports.count == 99, "an evaluation every 10,000 events after the reference")
        #expect(reports.allSatisfy { $0.evaluation.features.count == 31 }, "30 features and the score")
        #expect(outcomes.flatMap(\.alerts).isEmpty, "no alert on a stationary stream")
        #expect(reports.filter(\.evaluation.datasetDrifted).isEmpty)
    }

    @Test func aOneStandardDeviationShiftIsFlaggedWithinAStepOfFillingHalfTheWindow() throws {
        let settings = try Self.settings(window: 100_000, step: 10_000, referenceEvents: 20_000, consecutive: 1)
        let names = (0..<30).map { "f\($0)" }
        var monitor = DriftMonitor(settings: settings, featureNames: names, stringFeatures: names.map { _ in false })
        let model = try ScoringModel(name: "m", version: 1, model: try Self.identityModel(features: names), pipelineFeatures: names)
        var rng = NormalStream(state: 11)
        let shiftAt = 150_000
        var outcomes: [DriftOutcome] = []
        Self.feed(&monitor, model: model, count: 300_000, features: 30, startTime: 0, value: { i, f in
            rng.normal(f == 4 && i >= shiftAt ? 1 : 0, 1)
        }, into: &outcomes)
        let reports = outcomes.flatMap(\.reports)
        let firstDrift = try #require(reports.first { report in report.evaluation.features.contains { $0.feature == "f4" && $0.result.drifted } })
        // Event i has event time i × 10 ms; the report's window ends at the event that completed it.
        let shiftedInWindow = Int(firstDrift.windowEndMillis! / 10) + 1 - shiftAt
        #expect(shiftedInWindow <= 50_000 + 10_000, "flagged after \(shiftedInWindow) shifted events; target: half the window plus one step")
        #expect(shiftedInWindow > 0, "never before the shift")
        let alerts = outcomes.flatMap(\.alerts)
        #expect(alerts.contains { $0.feature == "f4" && $0.state == "firing" && $0.kind == "data_drift" })
        #expect(alerts.filter { $0.feature != "f4" && $0.feature != "score" }.isEmpty, "only the shifted feature (and the score it moves) alert")
    }

    @Test func anOverrideWithANumericalTestOnAStringFeatureFailsAtStartUp() throws {
        let base = """
            source: {topics: [events], entity: user_id, event_time: ts, fields: {amount: double, country: string}}
            features:
              - {name: amount, value: amount}
              - {name: last_country, aggregate: last, of: country}
            drift:
              overrides:
            """
        let numerical = try SluiceConfig.load(yamlText: base + "\n    last_country: {test: ks, threshold: 0.05}\n", environment: [:]).config
        #expect {
            try WorkerSetup(config: numerical)
        } throws: { error in
            "\(error)".contains("drift.overrides.last_country: 'ks' needs numbers but last_country is a string feature; expected chisquare, ztest, jensenshannon or psi")
        }
        let categorical = try SluiceConfig.load(yamlText: base + "\n    last_country: {test: psi, threshold: 0.2}\n    score: {test: psi, threshold: 0.2}\n", environment: [:]).config
        #expect(try WorkerSetup(config: categorical).drift.configuration.overrides["last_country"]?.test == .psi)
    }

    @Test func aShiftInTheStreamFiresAlertsToKafkaAndPostgreSQLAndResolvesWhenItShiftsBack() async throws {
        let environment = try await WorkerEnvironment(partitions: 1)
        defer { Task { try? await environment.dropSchema() } }
        let features = """
              - {name: amount, value: amount}
              - {name: last_country, aggregate: last, of: country}
            """
        let yaml = environment.yaml(features: features) + """

            drift: {window: {kind: count, size: 2000}, step: 500, reference_events: 2000, alert: {consecutive: 2, cooldown: 0s}}
            """
        let setup = try WorkerSetup(config: try SluiceConfig.load(yamlText: yaml, environment: [:]).config)
        #expect(setup.stringFeatures == [false, true])

        // amount ~ N(50, 10), shifted by 3 standard deviations for 3,000 events, then back.
        let start = Int64(Date().timeIntervalSince1970 * 1_000) - 4 * 3_600_000
        let phases = [(4_000, 50.0), (3_000, 80.0), (5_000, 50.0)]
        var rng = NormalStream(state: 3)
        var messages: [KafkaProducerMessage] = []
        let countries = ["DE", "FR", "IT", "ES", "NL"]
        for (count, mean) in phases {
            for _ in 0..<count {
                let i = messages.count
                let event = #"{"event_id":"e\#(i)","user_id":"u\#(i % 50)","ts":\#(start + Int64(i) * 1_000),"amount":\#((rng.normal(mean, 10) * 100).rounded() / 100),"merchant":"m\#(i % 7)","country":"\#(countries[Int(rng.unit() * 5)])"}"#
                messages.append(KafkaProducerMessage(topic: environment.topic, key: Array("u\(i % 50)".utf8), value: Array(event.utf8)))
            }
        }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: environment.brokers), logger: WorkerEnvironment.logger)
        _ = try await producer.sendBatch(messages)
        try await producer.close()

        let connection = try await environment.connect()
        try await FeatureStoreMigrations.migrate(connection, schema: environment.schema)
        let reader = try await environment.connect()
        let worker = try Worker(setup: setup, connection: connection, reader: reader, logger: WorkerEnvironment.logger)
        worker.setModels(ScoringModels(champion: try ScoringModel(name: "fraud", version: 3, model: try Self.identityModel(features: ["amount"]),
                                                                 pipelineFeatures: setup.featureNames)))
        let running = Task { try await worker.run() }
        let observer = try await environment.connect()
        try await environment.waitUntilCaughtUp(observer)
        await worker.stop()
        try await running.value

        // (12,000 − 2,000 reference events) / 500 per step evaluations, each stored.
        let reports = try await observer.query("SELECT count(*) FROM \(environment.schema).drift_reports").first!.decode(Int64.self, column: 0)
        #expect(reports == 20)
        #expect(worker.counts.driftEvaluations == 20)
        let published = try await environment.consume(environment.alertsTopic, count: try await environment.messageCount(environment.alertsTopic, partitions: 1))
        let alerts = try published.map { try JSONDecoder().decode(AlertMessage.self, from: Data($0.value)) }
        for feature in ["amount", "score"] {
            let stream = alerts.filter { $0.feature == feature }
            #expect(stream.map(\.state) == ["firing", "resolved"], "\(feature): fires during the shift and resolves after it")
            guard stream.count == 2 else { continue }
            #expect(stream[0].alert_id == stream[1].alert_id, "the resolution names the alert it resolves")
            #expect(stream[0].kind == (feature == "score" ? "prediction_drift" : "data_drift"))
            #expect(stream[0].model.name == "fraud" && stream[0].model.version == 3)
            #expect(stream[0].reference.events == 2_000 && stream[0].reference.source.contains("live"))
            // Fired within the shift: after it began and before it ended (event i has time start + i s).
            let firedAt = RFC3339Timestamp.parseMillis(stream[0].window.end ?? "") ?? 0
            let index = (firedAt - start) / 1_000
            #expect(index >= 4_000 && index < 7_000, "\(feature) fired at event \(index); the shift spans events 4,000–6,999")
            let resolvedAt = ((RFC3339Timestamp.parseMillis(stream[1].window.end ?? "") ?? 0) - start) / 1_000
            #expect(resolvedAt >= 7_000, "\(feature) resolved at event \(resolvedAt), after the shift ended")
        }
        #expect(alerts.filter { $0.feature == "last_country" }.isEmpty, "a stationary categorical feature does not alert")
        let stored = try await observer.query("SELECT feature, state, kind FROM \(environment.schema).drift_alerts ORDER BY feature")
        let rows = try stored.map { "\(try $0.decode(String.self, column: 0)):\(try $0.decode(String.self, column: 1)):\(try $0.decode(String.self, column: 2))" }
        #expect(rows == ["amount:resolved:data_drift", "score:resolved:prediction_drift"], "PostgreSQL holds each alert's latest state")
        await connection.close()
        await reader.close()
        await observer.close()
    }
}
