import Foundation

/// A linear or logistic model in Sluice's own JSON format (docs/models-linear.md):
///
/// ```json
/// {"format": "sluice-linear", "version": 1, "feature_names": ["a", "b"],
///  "weights": [0.5, -1.25], "intercept": 0.1, "link": "logistic", "missing": "zero"}
/// ```
///
/// `margin = intercept + Σ weights[i] * x[i]`; the link is `identity`, `logistic` (sigmoid), or
/// `softmax` for multinomial models, whose `weights` are one array per class and whose
/// `intercept` is an array. `missing: "zero"` treats NaN inputs as 0; `missing: "error"` makes
/// ``validate(row:)`` reject them (and the unchecked scoring paths return NaN).
/// Explanations are `w_i * x_i` per feature with the intercept as bias.
package struct LinearModel: Model {
    /// How a missing (NaN) input is handled.
    package enum Missing: String, Sendable {
        /// NaN counts as 0 (contributes nothing).
        case zero
        /// NaN is refused by ``LinearModel/validate(row:)``.
        case error
    }

    package var format: ModelFormat { .linearJSON }
    package let featureNames: [String]
    package let outputCount: Int
    package var marginCount: Int { intercepts.count }
    package let missing: Missing
    /// The link name from the file.
    package let link: String
    /// Class labels from the file, if the exporter wrote them (informational).
    package let classes: [String]

    /// Row-major weights: `marginCount` rows of `featureNames.count`.
    let weights: [Double]
    let intercepts: [Double]
    let transform: OutputTransform

    /// Loads a `sluice-linear` JSON document.
    /// - Throws: ``ModelError`` naming the field that is missing or malformed.
    package init(data: Data) throws(ModelError) {
        let context = "linear JSON"
        // JSONDecoder parses numbers exactly (round-trip), which JSONSerialization does not on all platforms.
        let doc: Document
        do {
            doc = try JSONDecoder().decode(Document.self, from: data)
        } catch let error as DecodingError {
            throw .invalid("\(context): \(XGBoostJSON.describe(error))")
        } catch {
            throw .invalid("\(context): \(error)")
        }
        guard doc.format == "sluice-linear" else {
            throw .invalid("\(context): format is \"\(doc.format)\", expected \"sluice-linear\"")
        }
        guard doc.version == 1 else {
            throw .unsupported("\(context): version is \(doc.version), expected 1")
        }
        let names = doc.featureNames
        let link = doc.link ?? "identity"
        switch link {
        case "identity": transform = .identity
        case "logistic": transform = .sigmoid(scale: 1)
        case "softmax": transform = .softmax
        default: throw .invalid("\(context): link is \"\(link)\", expected identity, logistic or softmax")
        }
        let missingName = doc.missing ?? "zero"
        guard let missing = Missing(rawValue: missingName) else {
            throw .invalid("\(context): missing is \"\(missingName)\", expected zero or error")
        }
        let rows = doc.weights.rows
        guard !rows.isEmpty else { throw .invalid("\(context): weights is empty") }
        for (k, row) in rows.enumerated() where row.count != names.count {
            let field = rows.count == 1 ? "weights" : "weights[\(k)]"
            throw .invalid("\(context): \(field) has \(row.count) entries, expected \(names.count) (one per feature name)")
        }
        let intercepts = doc.intercept?.rows.first ?? [Double](repeating: 0, count: rows.count)
        guard intercepts.count == rows.count else {
            throw .invalid("\(context): intercept has \(intercepts.count) values, expected \(rows.count) (one per weights row)")
        }
        if link == "softmax" && rows.count < 2 {
            throw .invalid("\(context): link softmax needs one weights array per class (at least 2), found \(rows.count)")
        }
        if link != "softmax" && rows.count != 1 {
            throw .invalid("\(context): link \(link) needs a single weights array, found \(rows.count)")
        }
        featureNames = names
        weights = rows.flatMap { $0 }
        self.intercepts = intercepts
        self.missing = missing
        self.link = link
        outputCount = rows.count
        classes = doc.classes?.values ?? []
    }

    /// The JSON document; see docs/models-linear.md.
    private struct Document: Decodable {
        var format: String
        var version: Int
        var featureNames: [String]
        var weights: Numbers
        var intercept: Numbers?
        var link: String?
        var missing: String?
        var classes: Labels?

        enum CodingKeys: String, CodingKey {
            case format, version, weights, intercept, link, missing, classes
            case featureNames = "feature_names"
        }
    }

    /// A number, an array of numbers, or an array of arrays of numbers, as rows.
    private struct Numbers: Decodable {
        var rows: [[Double]]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(Double.self) {
                rows = [[single]]
            } else if let flat = try? container.decode([Double].self) {
                rows = [flat]
            } else {
                rows = try container.decode([[Double]].self)
            }
        }
    }

    /// Class labels, which sklearn may hold as numbers or strings.
    private struct Labels: Decodable {
        var values: [String]

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            var values: [String] = []
            while !container.isAtEnd {
                if let s = try? container.decode(String.self) {
                    values.append(s)
                } else if let i = try? container.decode(Int.self) {
                    values.append(String(i))
                } else if let d = try? container.decode(Double.self) {
                    values.append(String(d))
                } else {
                    values.append(String(try container.decode(Bool.self)))
                }
            }
            self.values = values
        }
    }

    @inline(__always)
    private func margins(row: UnsafePointer<Double>, into acc: UnsafeMutablePointer<Double>) {
        let f = featureNames.count
        let zeroMissing = missing == .zero
        weights.withUnsafeBufferPointer { w in
            for k in 0..<intercepts.count {
                var sum = intercepts[k]
                let wk = w.baseAddress.unsafelyUnwrapped + k * f
                for j in 0..<f {
                    let x = row[j]
                    sum += wk[j] * (zeroMissing && x.isNaN ? 0 : x)
                }
                acc[k] = sum
            }
        }
    }

    package func predictMargin(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        precondition(row.count >= featureNames.count, "row has \(row.count) values, expected \(featureNames.count)")
        precondition(output.count >= marginCount, "output has room for \(output.count) values, expected \(marginCount)")
        margins(row: row.baseAddress.unsafelyUnwrapped, into: output.baseAddress.unsafelyUnwrapped)
    }

    package func predict(row: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        predictMargin(row: row, into: output)
        transform.apply(output.baseAddress.unsafelyUnwrapped, marginCount, into: output.baseAddress.unsafelyUnwrapped)
    }

    package func predictBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>) {
        predictMarginBatch(rows: rows, rowCount: rowCount, into: output)
        let out = output.baseAddress
        for r in 0..<rowCount {
            let m = out.unsafelyUnwrapped + r * marginCount
            transform.apply(m, marginCount, into: m)
        }
    }

    package func predictMarginBatch(rows: UnsafeBufferPointer<Double>, rowCount: Int, into output: UnsafeMutableBufferPointer<Double>) {
        let f = featureNames.count
        precondition(rows.count >= rowCount * f, "rows hold \(rows.count) values, expected \(rowCount) x \(f)")
        precondition(output.count >= rowCount * marginCount, "output has room for \(output.count) values, expected \(rowCount * marginCount)")
        guard rowCount > 0 else { return }
        let x = rows.baseAddress.unsafelyUnwrapped
        let out = output.baseAddress.unsafelyUnwrapped
        for r in 0..<rowCount {
            margins(row: x + r * f, into: out + r * marginCount)
        }
    }

    package func explain(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        let f = featureNames.count
        let width = f + 1
        precondition(row.count >= f, "row has \(row.count) values, expected \(f)")
        precondition(contributions.count >= marginCount * width,
                     "contributions has room for \(contributions.count) values, expected \(marginCount * width)")
        for k in 0..<marginCount {
            for j in 0..<f {
                let x = row[j]
                contributions[k * width + j] = weights[k * f + j] * (missing == .zero && x.isNaN ? 0 : x)
            }
            contributions[k * width + f] = intercepts[k]
        }
    }

    /// The exact `w_i * x_i` explanation (a linear model's path attribution is exact).
    package func explainPath(row: UnsafeBufferPointer<Double>, into contributions: UnsafeMutableBufferPointer<Double>) {
        explain(row: row, into: contributions)
    }

    package func validate(row: UnsafeBufferPointer<Double>) throws(ModelError) {
        try validateWidth(row)
        if missing == .error, let j = (0..<featureNames.count).first(where: { row[$0].isNaN }) {
            throw ModelError(.invalidInput, "feature \"\(featureNames[j])\" is missing (NaN), and this linear model has \"missing\": \"error\"")
        }
    }
}
