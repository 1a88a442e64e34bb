import Dispatch
import Foundation
import SluiceFeatureStore
import SluiceFeatures
import SluiceInference
import SluiceMonitoring

/// One registered model version, ready to score the pipeline's feature rows.
package struct ScoringModel: Sendable {
    package let name: String
    package let version: Int
    package let model: LoadedModel
    /// For each model input (in the model's feature order), the index of the pipeline feature feeding it.
    let inputs: [Int]
    /// The drift monitor's reference for this version, when one was registered or built from live events.
    package let reference: ReferenceProfile?

    /// - Throws: `WorkerError` listing every model feature the pipeline does not produce.
    package init(name: String, version: Int, model: LoadedModel, pipelineFeatures: [String], reference: ReferenceProfile? = nil) throws {
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
        self.reference = reference
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
    ///   - explainTopK: the number of contributions to keep per row (0 = none).
    ///   - exact: exact TreeSHAP for tree models when true, path attribution when false (linear models: w·x).
    static func score(rows: [Double], width: Int, rowCount: Int, with model: ScoringModel, explainTopK: Int, exact: Bool = true) -> ModelScores {
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
                                contributions.withUnsafeMutableBufferPointer { buffer in
                                    if exact { model.model.explain(row: row, into: buffer) } else { model.model.explainPath(row: row, into: buffer) }
                                }
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
/// explanation: [{feature, contribution}], challenger?: {name, version, score}}`. `score` is a number for
/// binary and regression models and an array of class probabilities for multiclass models.
///
/// One encoder serves one micro-batch: the parts that are the same for every row (`scored_at`, the model
/// objects) are encoded once, the rest is appended byte by byte without intermediate strings, every message into
/// one buffer whose slices are the messages' keys and values (one allocation per batch, not two per message).
struct PredictionEncoder {
    /// Each message as two runs, its key and its value.
    private var messages = ByteRuns()
    private let scoredAt: [UInt8]
    private let championModel: [UInt8]
    private let challengerPrefix: [UInt8]?
    private let featureNames: [[UInt8]]

    init(scoredAtMillis: Int64, champion: ScoringModel, challenger: ScoringModel?) {
        var writer = JSONOutputWriter()
        func encoded(_ body: (inout JSONOutputWriter) -> Void) -> [UInt8] {
            writer.reset()
            body(&writer)
            return writer.bytes
        }
        scoredAt = encoded { $0.timestamp(millis: scoredAtMillis) }
        championModel = encoded { w in
            w.beginObject(); w.key("name"); w.string(champion.name); w.key("version"); w.int(Int64(champion.version)); w.endObject()
        }
        challengerPrefix = challenger.map { model in
            Array(#","challenger":{"name":"#.utf8) + encoded { $0.string(model.name) } + Array(#","version":\#(model.version),"score":"#.utf8)
        }
        featureNames = champion.model.featureNames.map { name in encoded { $0.string(name) } }
    }

    /// Appends log row `row`'s prediction message as two runs: its key (the entity), then its value.
    mutating func append(_ logRow: FeatureStoreBatch.LogRow, champion: ModelScores, challenger: ModelScores?, row: Int) {
        var entity = logRow.entity
        entity.withUTF8 { messages.bytes.append(contentsOf: $0) }
        messages.endRun()
        append(#"{"prediction_id":""#)
        stringContents(logRow.topic)
        logRow.withPredictionIDSuffix { messages.bytes.append(contentsOf: $0) }
        append(#"","event_id":"#)
        if let eventID = logRow.eventID { quoted(eventID) } else { append("null") }
        append(#","entity_id":"#)
        quoted(logRow.entity)
        append(#","event_time":""#)
        RFC3339Timestamp.append(millis: logRow.eventTimeMillis, to: &messages.bytes)
        append(#"","scored_at":"#)
        messages.bytes += scoredAt
        append(#","model":"#)
        messages.bytes += championModel
        append(#","score":"#)
        score(champion, row: row)
        append(#","features":"#)
        messages.bytes += logRow.featuresJSON
        append(#","explanation":"#)
        explanation(champion, row: row)
        if let challenger, let challengerPrefix {
            messages.bytes += challengerPrefix
            score(challenger, row: row)
            messages.bytes.append(UInt8(ascii: "}"))
        }
        messages.bytes.append(UInt8(ascii: "}"))
        messages.endRun()
    }

    /// Bytes of the messages appended so far.
    var byteCount: Int { messages.bytes.count }

    /// Makes room for `bytes` more bytes of messages.
    mutating func reserve(_ bytes: Int) {
        messages.bytes.reserveCapacity(messages.bytes.count + bytes)
    }

    /// Hands over the messages appended so far, key and value of each in turn, as slices of one buffer, and starts
    /// afresh.
    mutating func takeMessages() -> [ArraySlice<UInt8>] {
        messages.takeRuns()
    }

    /// The explanation as a JSON array for the feature log (`[{"feature":…,"contribution":…}]`), nil when off.
    mutating func explanationJSON(_ scores: ModelScores, row: Int) -> [UInt8]? {
        guard !scores.explanations.isEmpty else { return nil }
        let start = messages.bytes.count
        explanation(scores, row: row)
        defer { messages.bytes.removeSubrange(start...) }
        return Array(messages.bytes[start...])
    }

    private mutating func explanation(_ scores: ModelScores, row: Int) {
        messages.bytes.append(UInt8(ascii: "["))
        if !scores.explanations.isEmpty {
            for (i, contribution) in scores.explanations[row].enumerated() {
                append(i == 0 ? #"{"feature":"# : #",{"feature":"#)
                messages.bytes += featureNames[contribution.featureIndex]
                append(#","contribution":"#)
                number(contribution.contribution)
                messages.bytes.append(UInt8(ascii: "}"))
            }
        }
        messages.bytes.append(UInt8(ascii: "]"))
    }

    private mutating func score(_ scores: ModelScores, row: Int) {
        let output = scores.output(row: row)
        if output.count == 1 {
            number(output[output.startIndex])
        } else {
            messages.bytes.append(UInt8(ascii: "["))
            for (i, value) in output.enumerated() {
                if i > 0 { messages.bytes.append(UInt8(ascii: ",")) }
                number(value)
            }
            messages.bytes.append(UInt8(ascii: "]"))
        }
    }

    private mutating func number(_ value: Double) {
        if value.isFinite { JSONNumberText.append(value, to: &messages.bytes) } else { append("null") }
    }

    private mutating func append(_ text: StaticString) {
        messages.bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A JSON string: plain bytes copied at once, escaping only when a byte needs it.
    private mutating func quoted(_ text: String) {
        messages.bytes.append(UInt8(ascii: "\""))
        stringContents(text)
        messages.bytes.append(UInt8(ascii: "\""))
    }

    /// A JSON string's contents, without the quotes.
    private mutating func stringContents(_ text: String) {
        var text = text
        let plain = text.withUTF8 { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
        if plain {
            text.withUTF8 { messages.bytes.append(contentsOf: $0) }
        } else {
            var writer = JSONOutputWriter(capacity: text.utf8.count + 8)
            writer.string(text)
            messages.bytes.append(contentsOf: writer.bytes.dropFirst().dropLast())
        }
    }
}
