import SluiceInference
import SluiceMonitoring

/// Builds reference profiles from CSV data (pure: no database).
///
/// **A model's reference** (``modelReference(table:pipelineFeatures:categorical:model:modelName:source:)``, used by
/// `sluice models register --reference`) is what the drift monitor compares that model's live window with:
/// - one column per pipeline feature that the file has, in pipeline order (columns that are not pipeline features
///   are ignored, a pipeline feature without a column is not monitored from this reference);
/// - a feature declared as a string (`value` or `last` of a string field) is categorical: each cell is a category,
///   an empty cell is missing; every other feature is numerical: each cell must be a number, and an empty cell or
///   `NaN` is missing;
/// - then the column ``scoreColumn`` (`score`): every row scored by the model itself, so prediction drift has a
///   reference even when the training file holds no scores. The model's features are read from their columns in
///   the model's order, a missing cell passed as missing. A model with one output gives that output; a multiclass
///   model gives its largest class probability. Every model feature must have a column.
///
/// **A file's own profile** (``inferredColumns(table:)``, used by `sluice drift compare`) has every column of the
/// file, in file order: numerical when every non-missing cell parses as a number, else categorical.
package enum ReferenceBuilder {
    /// The name of the model-score column of a model's reference profile.
    package static let scoreColumn = "score"

    /// The profile of a model's reference data; see the type's rules.
    /// - Parameters:
    ///   - table: The reference file.
    ///   - pipelineFeatures: Every feature the pipeline computes, in pipeline order.
    ///   - categorical: The pipeline features whose values are strings.
    ///   - model: The model version the reference belongs to; it scores the rows.
    ///   - modelName: The model's name, for messages.
    ///   - source: Where the reference came from, stored in the profile (for example the file name).
    /// - Throws: ``ReferenceError`` naming the file, line and column of a bad cell, a model feature without a column
    ///   or declared as a string, a pipeline feature called `score`, a file without rows, or a row the model refuses.
    package static func modelReference(table: CSVTable, pipelineFeatures: [String], categorical: Set<String>,
                                       model: LoadedModel, modelName: String, source: String) throws -> ReferenceProfile {
        ReferenceProfile.build(source: source, columns: try modelReferenceColumns(
            table: table, pipelineFeatures: pipelineFeatures, categorical: categorical, model: model, modelName: modelName))
    }

    /// The raw columns of ``modelReference(table:pipelineFeatures:categorical:model:modelName:source:)``, in
    /// profile order (the pipeline features the file has, then `score`).
    /// - Throws: as ``modelReference(table:pipelineFeatures:categorical:model:modelName:source:)``.
    package static func modelReferenceColumns(table: CSVTable, pipelineFeatures: [String], categorical: Set<String>,
                                              model: LoadedModel, modelName: String) throws -> [(name: String, values: FeatureColumn)] {
        if pipelineFeatures.contains(scoreColumn) {
            throw ReferenceError("the pipeline has a feature named '\(scoreColumn)', which is the name of the model-score column of a reference profile; rename the feature to give model '\(modelName)' a reference",
                                 file: table.name, column: scoreColumn)
        }
        guard !table.rows.isEmpty else {
            throw ReferenceError("\(table.name) has a header but no rows; expected at least one row of reference data", file: table.name, line: 2)
        }
        let absent = model.featureNames.filter { table.column($0) == nil }
        if !absent.isEmpty {
            throw ReferenceError("\(table.name) lacks the column(s) \(absent.joined(separator: ", ")) that model '\(modelName)' scores; expected a column for every model feature (\(model.featureNames.joined(separator: ", "))) so the reference's score column can be computed",
                                 file: table.name, line: 1, column: absent[0])
        }
        if let text = model.featureNames.first(where: { categorical.contains($0) }) {
            throw ReferenceError("model '\(modelName)' uses feature '\(text)', which the pipeline declares as a string; a model scores numbers",
                                 file: table.name, column: text)
        }
        var columns: [(name: String, values: FeatureColumn)] = []
        var numbersByName: [String: [Double]] = [:]
        for feature in pipelineFeatures {
            guard let index = table.column(feature) else { continue }
            if categorical.contains(feature) {
                columns.append((feature, .categorical(table.strings(column: index))))
            } else {
                let numbers = try table.numbers(column: index)
                numbersByName[feature] = numbers
                columns.append((feature, .numerical(numbers)))
            }
        }
        columns.append((scoreColumn, .numerical(try scores(table: table, model: model, modelName: modelName, known: numbersByName))))
        return columns
    }

    /// Every row of `table` scored by `model`: its one output, or the largest class probability.
    /// - Parameter known: Columns already parsed, by name.
    private static func scores(table: CSVTable, model: LoadedModel, modelName: String, known: [String: [Double]]) throws -> [Double] {
        let width = model.featureNames.count
        let rowCount = table.rows.count
        var rows = [Double](repeating: .nan, count: rowCount * width)
        for (j, feature) in model.featureNames.enumerated() {
            // Every model feature has a column (checked by the caller).
            let values = try known[feature] ?? table.numbers(column: table.column(feature) ?? 0)
            for r in 0..<rowCount { rows[r * width + j] = values[r] }
        }
        for r in 0..<rowCount {
            do {
                try rows.withUnsafeBufferPointer { (all) throws(ModelError) in
                    try model.validate(row: UnsafeBufferPointer(rebasing: all[(r * width)..<(r * width + width)]))
                }
            } catch {
                throw ReferenceError("\(table.name) line \(table.lines[r]): model '\(modelName)' cannot score the row: \(error.message)",
                                     file: table.name, line: table.lines[r])
            }
        }
        let outputs = model.outputCount
        let predictions = model.predictBatch(rows: rows, rowCount: rowCount)
        if outputs == 1 { return predictions }
        return (0..<rowCount).map { r in predictions[(r * outputs)..<((r + 1) * outputs)].max() ?? .nan }
    }

    /// Every column of `table`, in file order, numerical when every non-missing cell is a number, else categorical
    /// (the rule of `sluice drift compare`).
    package static func inferredColumns(table: CSVTable) throws -> [(name: String, values: FeatureColumn)] {
        try table.header.indices.map { index in
            table.isNumerical(column: index)
                ? (table.header[index], .numerical(try table.numbers(column: index)))
                : (table.header[index], .categorical(table.strings(column: index)))
        }
    }

    /// The columns of `table` that `profile` has, read with the kind the profile gives each feature (so a column of
    /// the current data is compared the way its reference column was profiled).
    /// - Throws: ``ReferenceError`` naming the file and the columns the profile has but the table lacks, or the
    ///   line and column of a cell that is not a number where the reference column was numerical.
    package static func columns(table: CSVTable, matching profile: ReferenceProfile) throws -> [(name: String, values: FeatureColumn)] {
        let absent = profile.features.map(\.name).filter { table.column($0) == nil }
        if !absent.isEmpty {
            throw ReferenceError("\(table.name) lacks the column(s) \(absent.joined(separator: ", ")) of the reference; expected every reference column",
                                 file: table.name, line: 1, column: absent[0])
        }
        return try profile.features.map { feature in
            let index = table.column(feature.name) ?? 0
            switch feature.kind {
            case .numerical: return (feature.name, .numerical(try table.numbers(column: index)))
            case .categorical: return (feature.name, .categorical(table.strings(column: index)))
            }
        }
    }
}
