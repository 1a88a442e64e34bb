import Foundation
import SluiceFeatures
import SluiceInference
import SluiceRegistry

/// How `sluice models` prints: aligned text for people, JSON (`--json`) for programs.
extension ModelsCommand {
    /// A registered version as printed by `--json`.
    struct ModelJSON: Encodable {
        var name: String
        var version: Int
        var stage: String
        var format: String
        var sha256: String
        var featureNames: [String]
        var outputCount: Int
        var description: String?
        var createdAt: String
        var stageChangedAt: String
        var history: [StageChangeJSON]?

        enum CodingKeys: String, CodingKey {
            case name, version, stage, format, sha256, description, history
            case featureNames = "feature_names", outputCount = "output_count", createdAt = "created_at", stageChangedAt = "stage_changed_at"
        }

        init(_ model: RegisteredModel, history: [ModelStageChange]? = nil) {
            name = model.name
            version = model.version
            stage = model.stage.rawValue
            format = model.format.rawValue
            sha256 = model.sha256
            featureNames = model.featureNames
            outputCount = model.outputCount
            description = model.description
            createdAt = formatRFC3339(millis: model.createdAtMillis)
            stageChangedAt = formatRFC3339(millis: model.stageChangedAtMillis)
            self.history = history.map { $0.map(StageChangeJSON.init) }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(version, forKey: .version)
            try container.encode(stage, forKey: .stage)
            try container.encode(format, forKey: .format)
            try container.encode(sha256, forKey: .sha256)
            try container.encode(featureNames, forKey: .featureNames)
            try container.encode(outputCount, forKey: .outputCount)
            try container.encode(description, forKey: .description)  // null rather than absent
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(stageChangedAt, forKey: .stageChangedAt)
            try container.encodeIfPresent(history, forKey: .history)
        }
    }

    /// One stage change of a version as printed by `show --json`.
    struct StageChangeJSON: Encodable {
        var from: String?
        var to: String
        var changedAt: String

        enum CodingKeys: String, CodingKey { case from, to, changedAt = "changed_at" }

        init(_ change: ModelStageChange) {
            from = change.from?.rawValue
            to = change.to.rawValue
            changedAt = formatRFC3339(millis: change.changedAtMillis)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(from, forKey: .from)
            try container.encode(to, forKey: .to)
            try container.encode(changedAt, forKey: .changedAt)
        }
    }

    /// Pretty JSON with sorted keys.
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Rows as columns padded to their widest cell, separated by two spaces (the last column unpadded).
    static func table(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    /// `version 3 (production)`-style one-liner used by the commands that change a stage.
    static func summary(_ model: RegisteredModel) -> String {
        "\(model.name) version \(model.version) (\(model.format.rawValue), \(model.featureNames.count) features, sha256 \(model.sha256.prefix(12))) is now \(model.stage.rawValue)"
    }

    /// Seconds-precision UTC time for tables.
    static func time(_ millis: Int64) -> String {
        let text = formatRFC3339(millis: millis)
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot]) + "Z"
    }
}

extension String {
    /// The string without the spaces at its end (an empty last column leaves none behind).
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
