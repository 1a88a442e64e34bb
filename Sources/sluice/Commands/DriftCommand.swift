import ArgumentParser
import Foundation
import SluiceMonitoring

/// `sluice drift …`: compare two data files as the drift monitor would, and show what the monitor found
/// (docs/drift.md).
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare a current CSV file with a reference CSV file as the drift monitor does; show the monitor's latest reports and firing alerts.",
        subcommands: [Compare.self, Status.self]
    )
}

extension DriftCommand {
    /// `0.123457`-style: six significant digits; `inf` and `nan` spelled out.
    static func number(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: "%.6g", value)
    }

    /// A p-value: four significant digits (scientific when small), `-` for tests without one.
    static func pValue(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4g", value)
    }

    /// The number for JSON: nil (null) when it is not finite, which JSON cannot spell.
    static func finite(_ value: Double?) -> Double? {
        guard let value, value.isFinite else { return nil }
        return value
    }
}
