import Dispatch
import Foundation
import SluiceFeatures
import SluiceInference

/// One registered model version, ready to score the pipeline's feature rows.
package struct ScoringModel: Sendable {
    package let name: String
    package let version: Int
    package let model: LoadedModel
    /// For each model input (in the model's feature order), the index of the pipeline feature feeding it.
    let inputs: [Int]

    /// - Throws: `WorkerError` listing every model feature the pipeline does not produce.
    package init(name: String, version: Int, model: LoadedModel, pipelineFeatures: [String]) throws {
        var index: [String: Int] = [:]
        for (i, feature) in pipelineFeatures.enumerated() where index[feature] == nil { index[feature] = i }
        let missing = model.featureNames.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw WorkerError(message: "model \(name) v\(version) needs features the pipeline does not produce: \(missing.joined(separator: ", ")) (the pipeline produces: \(pipelineFeatures.joined(separator: ", ")))")
        }
        self.name = name
        self.version = version
        self.model = model
        self.inputs = model.featureNames.map { index[$0]! }
    }

    /// True when the model gives one number per row (binary probability or regression value); multiclass
    /// models give a probability per class.
    var isScalar: Bool { model.outputCount == 1 }
}

/// The models that score a micro-batch: the production model and, optionally, a challenger (the `shadow`
/// stage). The worker swaps the whole value between micro-batches, so no batch mixes versions.
package struct ScoringModels: Sendable {
    package var champion: ScoringModel?
    package var challenger: ScoringModel?

    package init(champion: ScoringModel? = nil, challenger: ScoringModel? = nil) {
        self.champion = champion
        self.challenger = challenger
    }
}

/// A micro-batch's scores from one model: `outputCount` values per row, and the top contributions per row
/// when explanations are on.
struct ModelScores: Sendable {
    var model: ScoringModel
    var outputs: [Double]
    var explanations: [[FeatureContribution]]

    func output(row: Int) -> ArraySlice<Double> {
        let width = model.model.outputCount
        return outputs[(row * width)..<(row * width + width)]
    }
}

/// Scores the rows of a micro-batch with all cores: the rows are split into contiguous chunks, each chunk
/// gathered into the model's feature order and scored with the model's batch path. Results land at the rows'
/// positions, so the output order is the input order.
enum BatchScorer {
    /// Rows per chunk below which splitting costs more than it gains.
    static let minimumChunk = 64

    /// - Parameters:
    ///   - rows: `rowCount` rows of the pipeline's numeric feature values, `width` per row, row-major (NaN = missing).
    ///   - explainTopK: the number of contributions to keep per row (0 = none); exact TreeSHAP for trees.
    static func score(rows: [Double], width: Int, rowCount: Int, with model: ScoringModel, explainTopK: Int) -> ModelScores {
        let outputCount = model.model.outputCount
        var outputs = [Double](repeating: .nan, count: rowCount * outputCount)
        var explanations = [[FeatureContribution]](repeating: [], count: explainTopK > 0 ? rowCount : 0)
        guard rowCount > 0 else { return ModelScores(model: model, outputs: outputs, explanations: explanations) }
        let cores = max(1, System.coreCount)
        let chunks = min(cores, max(1, rowCount / minimumChunk))
        let perChunk = (rowCount + chunks - 1) / chunks
        let inputs = model.inputs
        let modelWidth = inputs.count
        let marginCount = model.model.marginCount
        rows.withUnsafeBufferPointer { rowBuffer in
            outputs.withUnsafeMutableBufferPointer { outputBuffer in
                explanations.withUnsafeMutableBufferPointer { explanationBuffer in
                    let source = UnsafeSendable(rowBuffer)
                    let target = UnsafeSendable(outputBuffer)
                    let explained = UnsafeSendable(explanationBuffer)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let start = chunk * perChunk
                        let end = min(rowCount, start + perChunk)
                        guard start < end else { return }
                        let count = end - start
                        var gathered = [Double](repeating: .nan, count: count * modelWidth)
                        for r in 0..<count {
                            let base = (start + r) * width
                            for (j, column) in inputs.enumerated() {
                                gathered[r * modelWidth + j] = source.value[base + column]
                            }
                        }
                        gathered.withUnsafeBufferPointer { input in
                            let slice = UnsafeMutableBufferPointer(rebasing: target.value[(start * outputCount)..<(end * outputCount)])
                            model.model.predictBatch(rows: input, rowCount: count, into: slice)
                            guard explainTopK > 0 else { return }
                            var contributions = [Double](repeating: 0, count: marginCount * (modelWidth + 1))
                            for r in 0..<count {
                                let row = UnsafeBufferPointer(rebasing: input[(r * modelWidth)..<(r * modelWidth + modelWidth)])
                                contributions.withUnsafeMutableBufferPointer { model.model.explain(row: row, into: $0) }
                                // Multiclass: explain the most probable class.
                                var k = 0
                                if marginCount > 1 {
                                    let out = slice[(r * outputCount)..<(r * outputCount + outputCount)]
                                    k = out.indices.max { out[$0] < out[$1] }! - r * outputCount
                                }
                                let block = contributions[(k * (modelWidth + 1))..<(k * (modelWidth + 1) + modelWidth)]
                                explained.value[start + r] = FeatureContribution.topK(explainTopK, of: block)
                            }
                        }
                    }
                }
            }
        }
        return ModelScores(model: model, outputs: outputs, explanations: explanations)
    }
}

/// A buffer handed to `concurrentPerform`'s workers, each of which touches only its own disjoint range.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

enum System {
    /// Cores the scorer spreads a micro-batch over.
    static let coreCount = ProcessInfo.processInfo.activeProcessorCount
}

/// Encodes prediction messages in the contract of DESIGN.md:
/// `{prediction_id, event_id, entity_id, event_time, scored_at, model: {name, version}, score, features,
/// explanation: [{feature, contribution}], challenger?: {version, score}}`. `score` is a number for binary and
/// regression models and an array of class probabilities for multiclass models.
struct PredictionEncoder {
    private var writer = JSONOutputWriter(capacity: 1_024)

    mutating func encode(predictionID: String, eventID: String?, entity: String, eventTimeMillis: Int64, scoredAtMillis: Int64,
                         champion: ModelScores, challenger: ModelScores?, row: Int, featuresJSON: [UInt8]) -> [UInt8] {
        writer.reset()
        writer.beginObject()
        writer.key("prediction_id"); writer.string(predictionID)
        writer.key("event_id")
        if let eventID { writer.string(eventID) } else { writer.null() }
        writer.key("entity_id"); writer.string(entity)
        writer.key("event_time"); writer.timestamp(millis: eventTimeMillis)
        writer.key("scored_at"); writer.timestamp(millis: scoredAtMillis)
        writer.key("model")
        writer.beginObject()
        writer.key("name"); writer.string(champion.model.name)
        writer.key("version"); writer.int(Int64(champion.model.version))
        writer.endObject()
        writer.key("score"); score(champion, row: row)
        writer.key("features"); writer.raw(featuresJSON)
        writer.key("explanation")
        writer.beginArray()
        if !champion.explanations.isEmpty {
            let names = champion.model.model.featureNames
            for contribution in champion.explanations[row] {
                writer.beginObject()
                writer.key("feature"); writer.string(names[contribution.featureIndex])
                writer.key("contribution"); writer.double(contribution.contribution)
                writer.endObject()
            }
        }
        writer.endArray()
        if let challenger {
            writer.key("challenger")
            writer.beginObject()
            writer.key("name"); writer.string(challenger.model.name)
            writer.key("version"); writer.int(Int64(challenger.model.version))
            writer.key("score"); score(challenger, row: row)
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// The explanation as a JSON array for the feature log (`[{"feature":…,"contribution":…}]`), nil when off.
    mutating func explanationJSON(_ scores: ModelScores, row: Int) -> [UInt8]? {
        guard !scores.explanations.isEmpty else { return nil }
        let names = scores.model.model.featureNames
        writer.reset()
        writer.beginArray()
        for contribution in scores.explanations[row] {
            writer.beginObject()
            writer.key("feature"); writer.string(names[contribution.featureIndex])
            writer.key("contribution"); writer.double(contribution.contribution)
            writer.endObject()
        }
        writer.endArray()
        return writer.bytes
    }

    private mutating func score(_ scores: ModelScores, row: Int) {
        let output = scores.output(row: row)
        if output.count == 1 {
            writer.double(output[output.startIndex])
        } else {
            writer.beginArray()
            for value in output { writer.double(value) }
            writer.endArray()
        }
    }
}
