import ArgumentParser
import Foundation
import SluiceEvaluation
import SluiceInference
import SluiceRegistry
import SluiceService

extension ModelsCommand {
    /// `sluice models promote NAME VERSION [--stage production|shadow] [--require COND …] [--snapshot ID]
    /// [--allow-first] [--json]`.
    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "promote",
            abstract: "Move a version to production (the previous one is archived) or shadow (the previous one returns to staging).",
            discussion: """
                Workers swap models on the change (NOTIFY sluice_models). An archived version can be promoted again.

                With --require the promotion is gated: the version and the current production version are scored \
                with their registered artifacts on the holdout rows (split = holdout) of a labelled snapshot \
                (--snapshot ID, default the newest snapshot of NAME), and the version is promoted only if every \
                requirement holds. A requirement is METRIC OP VALUE: METRIC one of \
                \(Metric.allCases.map(\.rawValue).joined(separator: ", ")); OP one of >=, >, <=, <; VALUE a number, \
                `production` (production's value of the metric) or production+X / production-X. Examples: \
                --require "auc>=0.8" --require "logloss<=production" --require "auc>=production-0.01". \
                A requirement that compares with production fails when there is no production version, unless \
                --allow-first skips it. A refused promotion changes nothing and exits with status 3. See \
                docs/models.md, "Promotion gate".
                """
        )

        @OptionGroup var options: ConfigOptions

        @Argument(help: "Model name.")
        var name: String

        @Argument(help: "Version number.")
        var version: Int

        @Option(help: "Target stage: production or shadow.")
        var stage: ModelStage = .production

        @Option(name: .customLong("require"), help: ArgumentHelp("A condition the version must meet on the snapshot's holdout rows, e.g. \"auc>=0.8\", \"logloss<=production\", \"auc>=production-0.01\" (repeatable).", valueName: "condition"))
        var requirements: [String] = []

        @Option(help: ArgumentHelp("The snapshot to evaluate on (default: the newest snapshot of the model).", valueName: "id"))
        var snapshot: String?

        @Flag(help: "With no production version, skip the requirements that compare with production (promote a first version).")
        var allowFirst = false

        @Flag(help: "Print JSON: the version, and the gate's figures when --require is given.")
        var json = false

        func validate() throws {
            guard stage.isServing else {
                throw ValidationError("--stage \(stage.rawValue): promote moves a version to production or shadow (use `sluice models archive` to retire one)")
            }
            if requirements.isEmpty, snapshot != nil || allowFirst {
                throw ValidationError("\(snapshot != nil ? "--snapshot" : "--allow-first") only applies to a gated promotion: add at least one --require condition, e.g. --require \"auc>=0.8\"")
            }
            _ = try parsedRequirements()
        }

        /// The `--require` conditions, parsed.
        func parsedRequirements() throws -> [GateRequirement] {
            do {
                return try requirements.map { text throws(GateRequirementError) in try GateRequirement(parsing: text) }
            } catch {
                throw ValidationError(error.message)
            }
        }

        func run() async throws {
            try await ModelsCommand.reportingErrors {
                let config = try ModelsCommand.loadConfig(options)
                let requirements = try parsedRequirements()
                guard !requirements.isEmpty else {
                    let model = try await ModelsCommand.withRegistry(config, migrate: true) { registry in
                        try await registry.promote(name: name, version: version, to: stage)
                    }
                    print(json ? try ModelsCommand.json(PromoteJSON(promoted: true, model: ModelJSON(model), gate: nil)) : ModelsCommand.summary(model))
                    return
                }
                let (report, promoted) = try await ModelsCommand.withRegistry(config, migrate: true) { registry in
                    try await PromotionGate(registry: registry).promote(name: name, version: version, to: stage, requirements: requirements,
                                                                        snapshotID: snapshot, allowFirst: allowFirst)
                }
                if json {
                    let model = ModelJSON(promoted ?? report.candidate)
                    print(try ModelsCommand.json(PromoteJSON(promoted: promoted != nil, model: model, gate: GateJSON(report))))
                } else {
                    print(ModelsCommand.gateText(report, stage: stage))
                    if let promoted { print(ModelsCommand.summary(promoted)) }
                }
                if promoted == nil {
                    FileHandle.standardError.write(Data(ModelsCommand.refusal(report, stage: stage).utf8))
                    throw ExitCode(ModelsCommand.gateRefusedStatus)
                }
            }
        }
    }
}
