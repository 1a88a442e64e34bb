import Foundation

/// A model of any supported format, as returned by ``ModelLoader/load(data:format:)``.
///
/// Switching on the enum is cheap compared with scoring, and keeps callers free of existentials.
package enum LoadedModel: Model {
    case xgboost(XGBoostModel)
    case lightgbm(LightGBMModel)
    case linear(LinearModel)

    /// The wrapped model.
    package var model: any Model {
        switch self {
        case .xgboost(let m): m
        case .lightgbm(let m): m
        case .linear(let m): m
        }
    }

    package var format: ModelFormat {
        switch self {
        case .xgboost: .xgboostJSON
        case .lightgbm: .lightgbmText
        case .linear: .linearJSON
        }
    }

    package var featureNames: [String] {
        switch self {
        case .xgboost(let m): m.featureNames
        case .lightgbm(let m): m.featureNames
        case .linear(let m): m.featureNames
        }
    }

    package var outputCount: Int {
        switch self {
        case .xgboost(let m): m.outputCount
        case .lightgbm(let m): m.outputCount
        case .linear(let m): m.outputCount
        }
    }

    package var marginCount: Int {
        switch self {
        case .xgboost(let m): m.marginCount
        case .lightgbm(let m): m.marginCount
        case .linear(let m): m.marginCount
        }
    }

    package func predictMargin(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .xgboost(let m): m.predictMargin(row: row, into: output)
        case .lightgbm(let m): m.predictMargin(row: row, into: output)
        case .linear(let m): m.predictMargin(row: row, into: output)
        }
    }

    package func predict(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .xgboost(let m): m.predict(row: row, into: output)
        case .lightgbm(let m): m.predict(row: row, into: output)
        case .linear(let m): m.predict(row: row, into: output)
        }
    }

    package func predictBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .xgboost(let m): m.predictBatch(rows: rows, rowCount: rowCount, into: output)
        case .lightgbm(let m): m.predictBatch(rows: rows, rowCount: rowCount, into: output)
        case .linear(let m): m.predictBatch(rows: rows, rowCount: rowCount, into: output)
        }
    }

    package func predictMarginBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .xgboost(let m): m.predictMarginBatch(rows: rows, rowCount: rowCount, into: output)
        case .lightgbm(let m): m.predictMarginBatch(rows: rows, rowCount: rowCount, into: output)
        case .linear(let m): m.predictMarginBatch(rows: rows, rowCount: rowCount, into: output)
        }
    }

    package func explain(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .xgboost(let m): m.explain(row: row, into: contributions)
        case .lightgbm(let m): m.explain(row: row, into: contributions)
        case .linear(let m): m.explain(row: row, into: contributions)
        }
    }

    package func explainPath(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .xgboost(let m): m.explainPath(row: row, into: contributions)
        case .lightgbm(let m): m.explainPath(row: row, into: contributions)
        case .linear(let m): m.explainPath(row: row, into: contributions)
        }
    }

    package func validate(row: UnsafeBufferPointer<Double>) throws(ModelError) {
        switch self {
        case .xgboost(let m): try m.validate(row: row)
        case .lightgbm(let m): try m.validate(row: row)
        case .linear(let m): try m.validate(row: row)
        }
    }
}
