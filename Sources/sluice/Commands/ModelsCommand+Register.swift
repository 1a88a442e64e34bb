import ArgumentParser
import Foundation
import SluiceConfiguration
import SluiceInference
import SluiceMonitoring
import SluiceRegistry
import SluiceWorker

extension ModelsCommand {
    /// `sluice models register --name N --file F [--format F] [--stage staging|production] [--description TEXT]
    /// [--reference FILE.csv]`.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register",
            abstract: "Register a model file as the next version of a model.",
            discussion: """
                The file must load in its format and every feature it uses must be a numeric feature of the \
                configured pipeline (features of string fields cannot be scored). The new version starts in staging \
                unless --stage production is given, which archives the current production version.

                --reference gives the version the reference profile the drift monitor compares live windows with: \
                one column per pipeline feature the CSV file has, plus the model's own score of every row. It is \
                built before anything is registered and stored with the version, so a bad file registers nothing. \
                Without it, a worker builds the reference from the first drift.reference_events events it scores. \
                Only CSV is supported (see docs/drift.md).
                """
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "Model name: 1 to 100 characters from A-Z, a-z, 0-9, '.', '_' and '-'.")
        var name: String

        @Option(help: "Model file.")
        var file: String

        @Option(help: "File format (default: detected from the file).")
        var format: ModelFormat?

        @Option(help: "Initial stage: staging or production.")
        var stage: ModelStage = .staging

        @Option(help: "Free text stored with the version.")
        var description: String?

        @Option(name: .customLong("reference"), help: ArgumentHelp("Reference data (CSV with the pipeline's feature columns) to build the version's drift reference profile from.", valueName: "file.csv"))
        var referenceFile: String?

        func validate() throws {
            guard stage == .staging || stage == .production else {
                throw ValidationError("--stage \(stage.rawValue): a new version starts in staging or production (promote it to shadow afterwards)")
            }
        }

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let pipeline = try PipelineFeatures(config: config)
                let artifact: [UInt8]
                do {
                    artifact = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
                } catch {
                    throw ModelsCommandError("cannot read model file \(file): \(error.localizedDescription)")
                }
                // A file that does not load fails here, naming the file, before the database is touched.
                let model: LoadedModel
                do throws(ModelError) {
                    model = try ModelLoader.load(bytes: artifact, format: format)
                } catch {
                    let expected = format.map { "a valid \($0.rawValue) model" }
                        ?? "a model in one of the formats \(ModelFormat.allCases.map(\.rawValue).joined(separator: ", "))"
                    throw ModelsCommandError("cannot register model '\(name)': model file \(file) (\(artifact.count) bytes) is not \(expected): \(error.message)")
                }
                // Features of string fields exist in the pipeline but cannot be model inputs: say so, rather than
                // calling them missing.
                try pipeline.check(modelFeatures: model.featureNames, name: name)
                // Read the reference file now (a missing or Parquet file fails before the database is touched); the
                // registry builds the profile from it once the model loaded and passed the feature check, and
                // inserts it with the version.
                let table = try referenceFile.map(CSVTable.read(path:))
                let builder = table.map { ModelsCommand.referenceBuilder(table: $0, pipeline: pipeline, modelName: name) }
                let registered = try await ModelsCommand.withRegistry(config, migrate: true) { registry in
                    try await registry.register(name: name, artifact: artifact, format: format, stage: stage,
                                                pipelineFeatures: pipeline.numeric, description: description, reference: builder)
                }
                print("registered \(ModelsCommand.summary(registered))")
                if let table {
                    let columns = pipeline.all.filter { table.column($0) != nil } + [ReferenceBuilder.scoreColumn]
                    print("reference profile from \(table.name): \(table.rows.count) rows, \(columns.count) columns (\(columns.joined(separator: ", ")))")
                }
            }
        }
    }

    /// Builds a model's reference profile from `table` (``ReferenceBuilder``), named after the file.
    static func referenceBuilder(table: CSVTable, pipeline: PipelineFeatures, modelName: String) -> @Sendable (LoadedModel) throws -> ReferenceProfile {
        let features = pipeline.all
        let strings = Set(pipeline.strings.map(\.name))
        let source = URL(fileURLWithPath: table.name).lastPathComponent
        return { model in
            try ReferenceBuilder.modelReference(table: table, pipelineFeatures: features, categorical: strings, model: model,
                                                modelName: modelName, source: source)
        }
    }

    /// The configured pipeline's features, split into those a model can use (numbers and booleans) and those it
    /// cannot (features whose value is a string: `value` or `last` of a string field).
    struct PipelineFeatures {
        /// Every feature, in pipeline order.
        var all: [String]
        var numeric: [String]
        /// Name → how it is declared, e.g. `last of string field 'country'`.
        var strings: [(name: String, declaration: String)]

        init(config: SluiceConfig) throws {
            let setup = try WorkerSetup(config: config)
            let fieldTypes = Dictionary(config.source.fields.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
            var strings: [(String, String)] = []
            for declaration in config.features {
                switch declaration.kind {
                case .value(let field) where fieldTypes[field] == .string:
                    strings.append((declaration.name, "value of string field '\(field)'"))
                case .aggregate(.last, let field?, _, _) where fieldTypes[field] == .string:
                    strings.append((declaration.name, "last of string field '\(field)'"))
                default:
                    break
                }
            }
            self.strings = strings
            self.all = setup.featureNames
            let stringNames = Set(strings.map(\.0))
            self.numeric = setup.featureNames.filter { !stringNames.contains($0) }
        }

        /// - Throws: ``RegistryError`` `featureMismatch` when the model uses string features (and, in the same
        ///   message, features the pipeline lacks altogether).
        func check(modelFeatures: [String], name: String) throws {
            let declarations = Dictionary(strings.map { ($0.name, $0.declaration) }, uniquingKeysWith: { first, _ in first })
            let used = modelFeatures.filter { declarations[$0] != nil }
            guard !used.isEmpty else { return }
            var message = "model '\(name)' uses \(used.count) string feature(s) of the pipeline: "
                + used.map { "\($0) (\(declarations[$0] ?? ""))" }.joined(separator: ", ")
                + "; a model scores numbers, so expected only the pipeline's numeric features: \(numeric.joined(separator: ", "))"
            let known = Set(numeric).union(declarations.keys)
            let missing = modelFeatures.filter { !known.contains($0) }
            if !missing.isEmpty {
                message += "; it also uses \(missing.count) feature(s) the pipeline does not compute: \(missing.joined(separator: ", "))"
            }
            throw RegistryError(.featureMismatch, message, name: name)
        }
    }
}
