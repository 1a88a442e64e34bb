import SluiceEvaluation
import SluiceInference

/// The promotion gate: evaluates a candidate version and the current production version of a model on a labelled
/// snapshot's holdout rows, checks `--require` conditions, and promotes the candidate only if all of them hold.
///
/// Both versions are scored with their registered artifacts by the same evaluators the worker uses, so the figures
/// are those of the models that would serve. See docs/models.md, "Promotion gate".
package struct PromotionGate: Sendable {
    let registry: ModelRegistry
    let catalog: SnapshotCatalog
    let schema: String

    /// - Parameter registry: The model registry; the snapshots are looked up in its schema, on its session (the
    ///   gate runs one statement at a time).
    /// - Throws: `FeatureStoreError` when the registry's schema is not a plain identifier.
    package init(registry: ModelRegistry) throws {
        self.registry = registry
        self.catalog = try SnapshotCatalog(connection: registry.connection, schema: registry.schema)
        self.schema = registry.schema
    }

    /// The snapshot to evaluate on: `id` when given, else the newest snapshot of model `name`.
    /// - Throws: ``GateError`` `noSnapshot` saying which lookup found nothing; `PostgresError`.
    package func snapshot(id: String?, modelName name: String) async throws -> SnapshotRecord {
        if let id {
            guard let record = try await catalog.snapshot(id: id) else {
                throw GateError(.noSnapshot, "there is no snapshot '\(id)' in \(schema).snapshots; expected the snapshot_id of an exported snapshot (or leave out --snapshot to use the newest snapshot of model '\(name)')")
            }
            return record
        }
        guard let record = try await catalog.newest(modelName: name) else {
            let others = try await catalog.count()
            throw GateError(.noSnapshot, "model '\(name)' has no snapshot in \(schema).snapshots\(others > 0 ? " (there are \(others) snapshot(s) of other models)" : ""); the gate evaluates on a labelled snapshot's holdout rows: export a snapshot of '\(name)' first, or name one with --snapshot ID")
        }
        return record
    }

    /// Evaluates version `version` of `name` against `requirements` on a snapshot, changing nothing.
    /// - Parameters:
    ///   - snapshotID: The snapshot, or nil for the newest of `name`.
    ///   - allowFirst: With no production version, skip the requirements that compare with production instead of
    ///     failing them.
    /// - Returns: The report; ``GateReport/passed`` says whether the promotion may go ahead.
    /// - Throws: ``GateError`` when there is no such snapshot, its CSV is unusable, or a model cannot be scored or a
    ///   metric computed; ``RegistryError`` `notFound` for an unknown version; `PostgresError`.
    package func evaluate(name: String, version: Int, requirements: [GateRequirement], snapshotID: String?,
                          allowFirst: Bool) async throws -> GateReport {
        guard let loaded = try await registry.load(name: name, version: version) else {
            let versions = try await registry.list(name: name).map(\.version)
            throw RegistryError(.notFound, versions.isEmpty
                ? "model '\(name)' is not registered (expected a name shown by `sluice models list`)"
                : "model '\(name)' has no version \(version); its versions are \(ModelRegistry.ranges(versions))",
                name: name, version: version)
        }
        let (candidate, candidateModel) = loaded
        let production = try await registry.load(name: name, stage: .production)
        let record = try await snapshot(id: snapshotID, modelName: name)
        let csvPath = record.csvPath
        let holdout: HoldoutSet
        do {
            holdout = try HoldoutSet(contentsOf: csvPath)
        } catch let error as GateError {
            throw GateError(error.code, "snapshot '\(record.snapshotID)': \(error.message)")
        }

        var notes: [String] = []
        if !holdout.usesSplit {
            notes.append("snapshot '\(record.snapshotID)' has no split column, so there is no holdout: evaluated on all \(holdout.rowIndices.count) rows, which may include rows the candidate was trained on")
        }
        if let name = record.modelName, name != candidate.name {
            notes.append("snapshot '\(record.snapshotID)' was exported for model '\(name)', not '\(candidate.name)'")
        }
        if let production, production.0.version == candidate.version {
            notes.append("version \(candidate.version) is already the production version: it is compared with itself")
        }

        let needsProduction = requirements.contains { $0.bound.referencesProduction }
        let metrics = requirements.map(\.metric).uniqued()
        let candidateLabel = "model '\(name)' version \(candidate.version) (candidate)"
        let candidateValues = try values(metrics, model: candidateModel, label: candidateLabel, holdout: holdout, snapshot: record)
        var productionValues: [Metric: Double]? = nil
        if let production {
            let (registered, model) = production
            let label = "model '\(name)' version \(registered.version) (production)"
            do {
                productionValues = try values(metrics, model: model, label: label, holdout: holdout, snapshot: record)
            } catch let error as GateError where !needsProduction {
                // Only shown for comparison: the gate does not depend on it.
                notes.append("the production version could not be evaluated (no requirement compares with it): \(error.message)")
            }
        } else if needsProduction {
            notes.append(allowFirst
                ? "model '\(name)' has no production version: the requirements that compare with production are skipped (--allow-first)"
                : "model '\(name)' has no production version to compare with; pass --allow-first to promote a first version on the other requirements")
        }

        let checks = requirements.map { requirement in
            requirement.check(candidate: candidateValues[requirement.metric] ?? .nan,
                              production: productionValues?[requirement.metric], allowFirst: allowFirst)
        }
        return GateReport(snapshot: record, csvPath: csvPath, usesSplit: holdout.usesSplit, rowsEvaluated: holdout.rowIndices.count,
                          candidate: candidate, production: production?.0, checks: checks, notes: notes)
    }

    /// Evaluates, then promotes version `version` to `stage` if every requirement holds; nothing changes otherwise.
    ///
    /// The promotion is refused if the production version changed after the evaluation (it is checked again in the
    /// promotion's transaction).
    /// - Returns: The report and, when it passed, the promoted version.
    /// - Throws: as ``evaluate(name:version:requirements:snapshotID:allowFirst:)``, and as
    ///   ``ModelRegistry/promote(name:version:to:expectedProduction:)``.
    package func promote(name: String, version: Int, to stage: ModelStage, requirements: [GateRequirement], snapshotID: String?,
                         allowFirst: Bool) async throws -> (report: GateReport, promoted: RegisteredModel?) {
        let report = try await evaluate(name: name, version: version, requirements: requirements, snapshotID: snapshotID, allowFirst: allowFirst)
        guard report.passed else { return (report, nil) }
        let promoted = try await registry.promote(name: name, version: version, to: stage,
                                                  expectedProduction: .some(report.production?.version))
        return (report, promoted)
    }

    /// Scores the holdout with `model` and computes each metric.
    private func values(_ metrics: [Metric], model: LoadedModel, label: String, holdout: HoldoutSet,
                        snapshot: SnapshotRecord) throws -> [Metric: Double] {
        let scores: [Double]
        do {
            scores = try holdout.scores(of: model, label: label)
        } catch let error as GateError {
            throw GateError(error.code, "snapshot '\(snapshot.snapshotID)': \(error.message)")
        }
        var values: [Metric: Double] = [:]
        for metric in metrics {
            do {
                values[metric] = try metric.evaluate(labels: holdout.labels, scores: scores)
            } catch {
                let line = error.row.map { " (\(holdout.table.name) line \(holdout.line(ofRow: $0)))" } ?? ""
                throw GateError(.cannotEvaluate, "cannot compute \(metric) of \(label) on snapshot '\(snapshot.snapshotID)' (\(holdout.rowIndices.count) \(holdout.usesSplit ? "holdout " : "")rows): \(error.message)\(line)")
            }
        }
        return values
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    fileprivate func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
