/// A loaded model that scores rows of `Double` feature values.
///
/// A row holds one value per entry of ``featureNames``, in that order; `Double.nan`
/// marks a missing value. Outputs are written into caller-provided buffers so the
/// scoring paths allocate nothing:
/// - ``predict(row:into:)`` writes ``outputCount`` values: a probability for binary
///   classifiers, the value for regressors, one probability per class for multiclass
///   models (or the class index for XGBoost `multi:softmax`).
/// - ``predictMargin(row:into:)`` writes ``marginCount`` raw scores (before the link
///   function), one per class for multiclass models.
///
/// Buffers that are too small are a programming error and trap, as with array indexing.
/// Implementations are immutable values and safe to share between threads.
package protocol Model: Sendable {
    /// The file format the model was loaded from.
    var format: ModelFormat { get }
    /// The names of the input features, in row order.
    var featureNames: [String] { get }
    /// The number of values ``predict(row:into:)`` writes per row (1, or the number of classes).
    var outputCount: Int { get }
    /// The number of raw scores ``predictMargin(row:into:)`` and ``explain(row:into:)`` produce per row.
    var marginCount: Int { get }

    /// Writes the raw scores (margins) of one row into `output[0..<marginCount]`.
    func predictMargin(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)

    /// Writes the predictions of one row into `output[0..<outputCount]`.
    func predict(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)

    /// Scores `rowCount` rows stored row-major in `rows` (`rowCount * featureNames.count` values),
    /// writing `rowCount * outputCount` predictions row-major into `output`.
    func predictBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>)

    /// Like ``predictBatch(rows:rowCount:into:)`` but writes `rowCount * marginCount` raw scores.
    func predictMarginBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>)

    /// Writes per-feature contributions to the margin of one row: for each of the
    /// ``marginCount`` outputs, `featureNames.count` contributions followed by the bias,
    /// `marginCount * (featureNames.count + 1)` values in all (LightGBM's `pred_contrib` layout).
    /// For tree models these are exact path-dependent TreeSHAP values; for linear models `w_i * x_i`.
    /// Each block sums to the corresponding margin.
    func explain(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>)

    /// Writes a fast approximate attribution in the layout of ``explain(row:into:)``: along the
    /// row's decision path in each tree, the feature of every split receives the change of the
    /// expected (cover-weighted mean) value from the node to the child taken ("Saabas" path
    /// attribution, XGBoost's `pred_contribs=True, approx_contribs=True`). It costs one walk per
    /// tree, hundreds of times less than TreeSHAP, is not consistent in the Shapley sense, and
    /// likewise sums to the margin. Linear models give their exact `w_i * x_i` explanation.
    func explainPath(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>)

    /// Checks that a row is acceptable: the right width, and no missing value where the
    /// model refuses them (linear models with `"missing": "error"`).
    /// - Throws: ``ModelError`` with code ``ModelError/Code/invalidInput`` naming the feature.
    func validate(row: UnsafeBufferPointer<Double>) throws(ModelError)
}

extension Model {
    /// Predictions of one row as a new array of ``outputCount`` values.
    package func predict(row: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: outputCount)
        predict(row: row, into: &output)
        return output
    }

    /// Writes the predictions of one row into `output`, which must hold at least ``outputCount`` values.
    package func predict(row: [Double], into output: inout [Double]) {
        precondition(row.count >= featureNames.count, "row has \(row.count) values, expected \(featureNames.count)")
        precondition(output.count >= outputCount, "output has room for \(output.count) values, expected \(outputCount)")
        row.withUnsafeBufferPointer { r in
            output.withUnsafeMutableBufferPointer { o in predict(row: r, into: o) }
        }
    }

    /// Raw scores of one row as a new array of ``marginCount`` values.
    package func predictMargin(row: [Double]) -> [Double] {
        precondition(row.count >= featureNames.count, "row has \(row.count) values, expected \(featureNames.count)")
        var output = [Double](repeating: 0, count: marginCount)
        row.withUnsafeBufferPointer { r in
            output.withUnsafeMutableBufferPointer { o in predictMargin(row: r, into: o) }
        }
        return output
    }

    /// Predictions for `rowCount` rows stored row-major in `rows`, returned row-major.
    package func predictBatch(rows: [Double], rowCount: Int) -> [Double] {
        precondition(rows.count >= rowCount * featureNames.count,
                     "rows hold \(rows.count) values, expected \(rowCount) x \(featureNames.count)")
        var output = [Double](repeating: 0, count: rowCount * outputCount)
        rows.withUnsafeBufferPointer { r in
            output.withUnsafeMutableBufferPointer { o in predictBatch(rows: r, rowCount: rowCount, into: o) }
        }
        return output
    }

    /// Scores `rowCount` rows stored row-major in `rows` into `output` (at least
    /// `rowCount * outputCount` values), reusing the caller's buffer.
    package func predictBatch(rows: [Double], rowCount: Int, into output: inout [Double]) {
        precondition(rows.count >= rowCount * featureNames.count,
                     "rows hold \(rows.count) values, expected \(rowCount) x \(featureNames.count)")
        precondition(output.count >= rowCount * outputCount,
                     "output has room for \(output.count) values, expected \(rowCount * outputCount)")
        rows.withUnsafeBufferPointer { r in
            output.withUnsafeMutableBufferPointer { o in predictBatch(rows: r, rowCount: rowCount, into: o) }
        }
    }

    /// Raw scores for `rowCount` rows stored row-major in `rows`, returned row-major.
    package func predictMarginBatch(rows: [Double], rowCount: Int) -> [Double] {
        precondition(rows.count >= rowCount * featureNames.count,
                     "rows hold \(rows.count) values, expected \(rowCount) x \(featureNames.count)")
        var output = [Double](repeating: 0, count: rowCount * marginCount)
        rows.withUnsafeBufferPointer { r in
            output.withUnsafeMutableBufferPointer { o in predictMarginBatch(rows: r, rowCount: rowCount, into: o) }
        }
        return output
    }

    /// Per-feature contributions of one row, one ``Explanation`` per margin output
    /// (one for binary and regression models, one per class for multiclass models).
    package func explain(row: [Double]) -> [Explanation] {
        precondition(row.count >= featureNames.count, "row has \(row.count) values, expected \(featureNames.count)")
        let width = featureNames.count + 1
        var flat = [Double](repeating: 0, count: marginCount * width)
        row.withUnsafeBufferPointer { r in
            flat.withUnsafeMutableBufferPointer { o in explain(row: r, into: o) }
        }
        return (0..<marginCount).map { k in
            Explanation(contributions: Array(flat[(k * width)..<(k * width + width - 1)]), bias: flat[k * width + width - 1])
        }
    }

    /// Path attributions of one row (see ``explainPath(row:into:)``), one ``Explanation`` per margin output.
    package func explainPath(row: [Double]) -> [Explanation] {
        precondition(row.count >= featureNames.count, "row has \(row.count) values, expected \(featureNames.count)")
        let width = featureNames.count + 1
        var flat = [Double](repeating: 0, count: marginCount * width)
        row.withUnsafeBufferPointer { r in
            flat.withUnsafeMutableBufferPointer { o in explainPath(row: r, into: o) }
        }
        return (0..<marginCount).map { k in
            Explanation(contributions: Array(flat[(k * width)..<(k * width + width - 1)]), bias: flat[k * width + width - 1])
        }
    }

    /// Checks an array row; see ``validate(row:)-(UnsafeBufferPointer<Double>)``.
    package func validate(row: [Double]) throws(ModelError) {
        try row.withUnsafeBufferPointer { (r) throws(ModelError) in try validate(row: r) }
    }

    /// The index of each feature name, for mapping named inputs to row positions.
    package var featureIndex: [String: Int] {
        var index: [String: Int] = [:]
        for (i, name) in featureNames.enumerated() where index[name] == nil {
            index[name] = i
        }
        return index
    }

    /// Default width check shared by the tree models, which accept NaN anywhere.
    func validateWidth(_ row: UnsafeBufferPointer<Double>) throws(ModelError) {
        if row.count < featureNames.count {
            throw ModelError(.invalidInput, "row has \(row.count) values, expected \(featureNames.count) (\(format) model features)")
        }
    }
}
