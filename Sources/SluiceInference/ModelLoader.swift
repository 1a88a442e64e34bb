import Foundation

/// Loads model files of any supported format.
package enum ModelLoader {
    /// Loads a model from its serialized bytes.
    /// - Parameters:
    ///   - data: The model file's contents.
    ///   - format: The expected format, or `nil` to detect it with ``ModelFormat/detect(data:)``.
    ///     A given format is refused only when detection recognises the bytes as another format.
    /// - Throws: ``ModelError`` with code `unknownFormat` when the bytes are not in the given (or any
    ///   known) format, `invalidModel` when the file is corrupt or truncated, `unsupportedModel`
    ///   for valid models using features this evaluator lacks.
    package static func load(data: Data, format: ModelFormat? = nil) throws(ModelError) -> LoadedModel {
        let detected = ModelFormat.detect(data: data)
        guard let chosen = format ?? detected else {
            throw ModelError(.unknownFormat, "model file (\(data.count) bytes) is not XGBoost JSON, LightGBM text or sluice-linear JSON"
                             + Self.hint(data))
        }
        if let detected, detected != chosen {
            throw ModelError(.unknownFormat, "model file was loaded as \(chosen) but looks like \(detected)")
        }
        switch chosen {
        case .xgboostJSON: return .xgboost(try XGBoostModel(data: data))
        case .lightgbmText: return .lightgbm(try LightGBMModel(data: data))
        case .linearJSON: return .linear(try LinearModel(data: data))
        }
    }

    /// Loads a model from its serialized bytes; see ``load(data:format:)``.
    package static func load(bytes: [UInt8], format: ModelFormat? = nil) throws(ModelError) -> LoadedModel {
        try load(data: Data(bytes), format: format)
    }

    /// Reads and loads a model file.
    /// - Throws: ``ModelError`` when the file cannot be read or loaded.
    package static func load(contentsOf url: URL, format: ModelFormat? = nil) throws(ModelError) -> LoadedModel {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError(.invalidModel, "cannot read model file \(url.path): \(error.localizedDescription)")
        }
        return try load(data: data, format: format)
    }

    private static func hint(_ data: Data) -> String {
        guard let first = data.first else { return " (the file is empty)" }
        if first == UInt8(ascii: "{"), data.count > 1, data[data.startIndex + 1] != UInt8(ascii: "\""),
           !(data[data.startIndex + 1] == 0x20 || data[data.startIndex + 1] == 0x0A) {
            return " (this may be XGBoost's binary UBJSON format; save the model with a .json file name)"
        }
        return ""
    }
}
