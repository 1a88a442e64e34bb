import Foundation
import SluiceFeatures
import SluiceInference
import SluiceRegistry
import SluiceService

/// How `sluice models` prints: aligned text for people, JSON (`--json`) for programs.
extension ModelsCommand {
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
