/// The serialized model formats Sluice can evaluate natively.
package enum ModelFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// XGBoost's JSON model, as written by `Booster.save_model("m.json")` (gbtree or dart booster).
    case xgboostJSON = "xgboost-json"
    /// LightGBM's text model, as written by `Booster.save_model("m.txt")`.
    case lightgbmText = "lightgbm-text"
    /// Sluice's own linear/logistic JSON format (see docs/models-linear.md).
    case linearJSON = "linear-json"

    package var description: String { rawValue }

    /// Guesses the format of a model file from its first 64 KiB.
    ///
    /// - XGBoost JSON: a JSON object whose text mentions `"learner"`.
    /// - Linear JSON: a JSON object whose text mentions `"sluice-linear"`.
    /// - LightGBM text: starts with the line `tree` (or a `version=` line).
    ///
    /// Returns `nil` when none of these fit (for example XGBoost's binary UBJSON format).
    package static func detect(data: some Collection<UInt8>) -> ModelFormat? {
        var bytes = data.prefix(65_536)[...].drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {  // UTF-8 byte order mark
            bytes = bytes.dropFirst(3)
        }
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "{") {
            if Self.contains(bytes, "\"sluice-linear\"") { return .linearJSON }
            if Self.contains(bytes, "\"learner\"") { return .xgboostJSON }
            return nil
        }
        if bytes.starts(with: Array("tree".utf8)) || bytes.starts(with: Array("version=".utf8)) {
            return .lightgbmText
        }
        return nil
    }

    private static func contains(_ haystack: some Collection<UInt8>, _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        let h = Array(haystack)
        guard h.count >= n.count else { return false }
        for start in 0...(h.count - n.count) where h[start] == n[0] {
            if h[start..<(start + n.count)].elementsEqual(n) { return true }
        }
        return false
    }
}
