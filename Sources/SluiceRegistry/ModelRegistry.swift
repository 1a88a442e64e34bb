import Logging
import SluiceFeatureStore
import SluiceInference
import SluiceMonitoring
import SluicePostgres

/// The model registry: versioned model artifacts in PostgreSQL (`models`, `model_stage_history` of the feature store
/// schema) with their life-cycle stages.
///
/// Rules (docs/models.md):
/// - A version is registered only if its artifact loads (`ModelLoader`) and, when the pipeline's features are given,
///   every feature the model uses is one of them. Its SHA-256 is recorded and checked on every ``load(name:stage:)``.
/// - Versions of a name are 1, 2, 3, … in registration order, also under concurrent registrations (a
///   transaction-scoped advisory lock per name serialises every change to one name).
/// - At most one `production` and one `shadow` version per name. Promoting to production archives the previous
///   production version; promoting to shadow returns the previous shadow version to staging.
/// - Every stage change is one transaction that also writes `model_stage_history` and, when the production or shadow
///   version changed, sends `NOTIFY sluice_models, '<name>'`, which PostgreSQL delivers only if the transaction commits.
///
/// The registry uses one session for its statements and serialises its own operations, so one instance can be
/// shared by tasks; give it a connection nobody else uses meanwhile (a transaction cannot share its session).
package final class ModelRegistry: Sendable {
    /// The `LISTEN` channel of stage changes; the payload is the model name.
    package static let notificationChannel = "sluice_models"

    /// The longest model name accepted.
    package static let maximumNameLength = 100

    let connection: PostgresConnection
    /// The feature store schema, validated and quoted.
    let s: String
    let schema: String
    let logger: Logger
    let lock = SerialLock()

    /// - Parameters:
    ///   - connection: The session the registry runs its statements on.
    ///   - schema: The feature store schema holding `models` (migration 2, `FeatureStoreMigrations`).
    ///   - logger: Receives a line per registration and stage change.
    /// - Throws: `FeatureStoreError` when `schema` is not a plain identifier.
    package init(connection: PostgresConnection, schema: String, logger: Logger) throws {
        self.connection = connection
        self.s = try FeatureStore.quotedIdentifier(schema)
        self.schema = schema
        self.logger = logger
    }

    // MARK: Registration

    /// Registers a new version of model `name`.
    ///
    /// Checks the artifact by loading it, computes its SHA-256, checks its features against `pipelineFeatures`, and
    /// inserts it as version max(version) + 1 of `name` (1 for the first), all under the name's lock in one
    /// transaction. Registering straight to production archives the current production version and sends `NOTIFY`.
    /// - Parameters:
    ///   - name: The model name, `[A-Za-z0-9._-]`, 1 to 100 characters.
    ///   - artifact: The model file's bytes, stored as they are.
    ///   - format: The artifact's format, or nil to detect it from the bytes.
    ///   - stage: `.staging` (default) or `.production`; promote to shadow afterwards.
    ///   - pipelineFeatures: The features the pipeline computes, or nil to skip the feature check.
    ///   - description: Free text stored with the version.
    ///   - reference: Builds the version's reference profile (``ReferenceBuilder``) from the loaded model. It runs
    ///     after the artifact and feature checks and before anything is written, and the profile is inserted with
    ///     the version, so a version registered with a reference never exists without it (and a worker told by
    ///     `NOTIFY` finds it). Nil registers without one (see ``storeReference(name:version:profile:)``).
    /// - Returns: The new version.
    /// - Throws: ``RegistryError`` `invalidName`, `invalidModel` (not loadable, or a stage other than staging or
    ///   production), `featureMismatch` listing every feature the pipeline lacks; whatever `reference` throws
    ///   (``ReferenceError`` from ``ReferenceBuilder``); `PostgresError` from the database.
    package func register(name: String, artifact: [UInt8], format: ModelFormat?, stage: ModelStage = .staging,
                          pipelineFeatures: [String]?, description: String? = nil,
                          reference: (@Sendable (LoadedModel) throws -> ReferenceProfile)? = nil) async throws -> RegisteredModel {
        try Self.validate(name: name)
        guard stage == .staging || stage == .production else {
            throw RegistryError(.invalidModel, "cannot register model '\(name)' in stage \(stage.rawValue): a new version starts in staging or production (promote it to shadow afterwards)", name: name)
        }
        let model: LoadedModel
        do {
            model = try ModelLoader.load(bytes: artifact, format: format)
        } catch {
            let expected = format.map { "a valid \($0.rawValue) model" } ?? "a model in one of the formats \(ModelFormat.allCases.map(\.rawValue).joined(separator: ", "))"
            throw RegistryError(.invalidModel, "cannot register model '\(name)': the artifact (\(artifact.count) bytes) is not \(expected): \(error.message)", name: name)
        }
        if let pipelineFeatures {
            try Self.checkFeatures(model.featureNames, name: name, pipelineFeatures: pipelineFeatures)
        }
        let referenceJSON = try reference.map { try Self.encodeReference(try $0(model)) }
        let sha256 = ArtifactDigest.sha256Hex(artifact)
        let registered = try await lock.withLock {
            try await connection.transaction { connection in
                try await lockName(name, on: connection)
                let next = try await connection.query("SELECT coalesce(max(version), 0) + 1 FROM \(s).models WHERE name = $1", [name])
                let version = try next[0].decode(Int.self, column: 0)
                if stage == .production, let current = try await versionIn(.production, name: name, on: connection) {
                    try await move(name: name, version: current, from: .production, to: .archived, on: connection)
                }
                let rows = try await connection.query("""
                    INSERT INTO \(s).models (name, version, format, artifact, sha256, feature_names, output_count, stage, description, reference)
                    VALUES ($1, $2::int, $3, $4, $5, $6, $7::int, $8, $9, $10::text::json)
                    RETURNING \(Self.columns)
                    """, [name, version, model.format.rawValue, PostgresBytea(artifact), sha256, model.featureNames,
                          model.outputCount, stage.rawValue, description, referenceJSON])
                try await recordHistory(name: name, version: version, from: nil, to: stage, on: connection)
                if stage.isServing { try await notify(name, on: connection) }
                return try Self.decodeModel(rows[0])
            }
        }
        logger.info("model registered", metadata: [
            RegistryLogKey.model: "\(name)", RegistryLogKey.version: "\(registered.version)",
            RegistryLogKey.stage: "\(stage.rawValue)", RegistryLogKey.sha256: "\(sha256)",
        ])
        return registered
    }

    // MARK: Reading

    /// Every registered version, or those of `name`, ordered by name then version (artifacts are not read).
    /// - Throws: ``RegistryError`` `invalidName`; `PostgresError`.
    package func list(name: String? = nil) async throws -> [RegisteredModel] {
        if let name { try Self.validate(name: name) }
        let rows = try await lock.withLock {
            if let name {
                return try await connection.query("SELECT \(Self.columns) FROM \(s).models WHERE name = $1 ORDER BY name, version", [name])
            }
            return try await connection.query("SELECT \(Self.columns) FROM \(s).models ORDER BY name, version")
        }
        return try rows.map(Self.decodeModel)
    }

    /// Version `version` of `name`, or nil when there is no such version.
    /// - Throws: ``RegistryError`` `invalidName`; `PostgresError`.
    package func show(name: String, version: Int) async throws -> RegisteredModel? {
        try Self.validate(name: name)
        let rows = try await lock.withLock {
            try await connection.query("SELECT \(Self.columns) FROM \(s).models WHERE name = $1 AND version = $2::int",
                                       [name, Int32(clamping: version)])
        }
        return try rows.first.map(Self.decodeModel)
    }

    /// The stage changes of `name`, oldest first (registrations included, with `from` nil).
    /// - Throws: ``RegistryError`` `invalidName`; `PostgresError`.
    package func history(name: String) async throws -> [ModelStageChange] {
        try Self.validate(name: name)
        let rows = try await lock.withLock {
            try await connection.query("""
                SELECT version, from_stage, to_stage, changed_at FROM \(s).model_stage_history WHERE name = $1 ORDER BY id
                """, [name])
        }
        return try rows.map { row in
            let version = try row.decode(Int.self, column: 0)
            let from = try row.decode(String?.self, column: 1)
            return ModelStageChange(version: version, from: try from.map { try Self.stage($0, name: name, version: version) },
                                    to: try Self.stage(try row.decode(String.self, column: 2), name: name, version: version),
                                    changedAtMillis: try row.decode(PostgresTimestamp.self, column: 3).millis)
        }
    }

    /// Cheap poll for workers: the current production and shadow versions of `name` (nil where there is none,
    /// both nil for an unknown name).
    /// - Throws: ``RegistryError`` `invalidName`; `PostgresError`.
    package func currentVersions(name: String) async throws -> (production: Int?, shadow: Int?) {
        try Self.validate(name: name)
        let rows = try await lock.withLock {
            try await connection.query("""
                SELECT max(version) FILTER (WHERE stage = 'production'), max(version) FILTER (WHERE stage = 'shadow')
                FROM \(s).models WHERE name = $1
                """, [name], retryIdempotent: true)
        }
        return (try rows[0].decode(Int?.self, column: 0), try rows[0].decode(Int?.self, column: 1))
    }

    // MARK: Loading

    /// The `stage` version of `name` with its artifact loaded, or nil when `name` has no version in that stage.
    ///
    /// For `.production` and `.shadow` that is the one version in the stage; for `.staging` and `.archived`, the
    /// newest version in it. The artifact is verified against the SHA-256 recorded at registration before it is parsed.
    /// - Throws: ``RegistryError`` `corruptArtifact` naming both hashes when the stored bytes changed,
    ///   `invalidModel` when they no longer load; `invalidName`; `PostgresError`.
    package func load(name: String, stage: ModelStage) async throws -> (RegisteredModel, LoadedModel)? {
        try Self.validate(name: name)
        let rows = try await lock.withLock {
            try await connection.query("""
                SELECT \(Self.columns), artifact FROM \(s).models WHERE name = $1 AND stage = $2 ORDER BY version DESC LIMIT 1
                """, [name, stage.rawValue], retryIdempotent: true)
        }
        guard let row = rows.first else { return nil }
        return try Self.loadArtifact(row)
    }

    /// Version `version` of `name` with its artifact loaded and verified, whatever its stage; nil when there is no
    /// such version. Lets a worker load exactly the version ``currentVersions(name:)`` reported.
    /// - Throws: as ``load(name:stage:)``.
    package func load(name: String, version: Int) async throws -> (RegisteredModel, LoadedModel)? {
        try Self.validate(name: name)
        let rows = try await lock.withLock {
            try await connection.query("SELECT \(Self.columns), artifact FROM \(s).models WHERE name = $1 AND version = $2::int",
                                       [name, Int32(clamping: version)], retryIdempotent: true)
        }
        guard let row = rows.first else { return nil }
        return try Self.loadArtifact(row)
    }

    // MARK: Stage changes

    /// Moves version `version` of `name` to production or shadow, in one transaction with `NOTIFY`.
    ///
    /// - `.production`: the current production version (if another) becomes archived. A shadow or archived version
    ///   can be promoted too; an archived one comes back into service (this is how an old version is restored).
    /// - `.shadow`: the current shadow version (if another) goes back to staging. The production version cannot
    ///   also be the shadow.
    ///
    /// Promoting a version to the stage it already has changes nothing and returns it.
    /// - Parameter expectedProduction: When given, the promotion happens only if the production version of `name`
    ///   is still this one (`.some(nil)`: still none), checked under the name's lock in the same transaction. The
    ///   promotion gate passes the version it compared the candidate with, so a production change made meanwhile
    ///   by someone else is not silently archived on the strength of a comparison with another version.
    /// - Returns: The version in its new stage.
    /// - Throws: ``RegistryError`` `notFound` (no such version, listing the existing ones), `invalidTransition`
    ///   (a stage other than production or shadow, production → shadow, or a production version other than
    ///   `expectedProduction`); `invalidName`; `PostgresError`.
    package func promote(name: String, version: Int, to stage: ModelStage = .production,
                         expectedProduction: Int?? = nil) async throws -> RegisteredModel {
        try Self.validate(name: name)
        guard stage.isServing else {
            throw RegistryError(.invalidTransition, "cannot promote model '\(name)' version \(version) to \(stage.rawValue): promote moves a version to production or shadow (use archive to retire a version)", name: name, version: version)
        }
        let (model, changed) = try await lock.withLock {
            try await connection.transaction { connection in
                try await lockName(name, on: connection)
                let current = try await existingStage(name: name, version: version, on: connection)
                if let expected = expectedProduction {
                    let production = try await versionIn(.production, name: name, on: connection)
                    if production != expected {
                        throw RegistryError(.invalidTransition, "cannot promote model '\(name)' version \(version): the production version changed to \(production.map { "version \($0)" } ?? "none") since the gate compared with \(expected.map { "version \($0)" } ?? "none"); evaluate again", name: name, version: version)
                    }
                }
                if current == stage { return (try await selectModel(name: name, version: version, on: connection), false) }
                if stage == .shadow, current == .production {
                    throw RegistryError(.invalidTransition, "cannot promote model '\(name)' version \(version) to shadow: it is the production version; a shadow must be another version (promote a different version to shadow, or promote another version to production first)", name: name, version: version)
                }
                if let occupant = try await versionIn(stage, name: name, on: connection) {
                    try await move(name: name, version: occupant, from: stage, to: stage == .production ? .archived : .staging, on: connection)
                }
                try await move(name: name, version: version, from: current, to: stage, on: connection)
                try await notify(name, on: connection)
                return (try await selectModel(name: name, version: version, on: connection), true)
            }
        }
        if changed {
            logger.info("model promoted", metadata: [RegistryLogKey.model: "\(name)", RegistryLogKey.version: "\(version)", RegistryLogKey.stage: "\(stage.rawValue)"])
        }
        return model
    }

    /// Puts back in production the version that was production before the current one, and archives the current one,
    /// in one transaction with `NOTIFY`.
    ///
    /// "Before the current one" is read from `model_stage_history`: the most recent version other than the current
    /// production version that entered production. Rolling back twice therefore returns to where it started, like
    /// undo-of-undo. The restored version leaves whatever stage it had (normally archived; if it was the shadow, the
    /// shadow slot becomes empty).
    /// - Returns: The version taken out of production (`from`) and the one restored (`to`).
    /// - Throws: ``RegistryError`` `notFound` for an unknown name, `invalidTransition` when there is no production
    ///   version or no earlier one to return to; `invalidName`; `PostgresError`.
    package func rollback(name: String) async throws -> (from: Int, to: Int) {
        try Self.validate(name: name)
        let result = try await lock.withLock {
            try await connection.transaction { connection -> (from: Int, to: Int) in
                try await lockName(name, on: connection)
                guard let current = try await versionIn(.production, name: name, on: connection) else {
                    let versions = try await versions(of: name, on: connection)
                    if versions.isEmpty {
                        throw RegistryError(.notFound, "cannot roll back model '\(name)': no such model is registered (see `sluice models list`)", name: name)
                    }
                    throw RegistryError(.invalidTransition, "cannot roll back model '\(name)': it has no production version to roll back from; rollback needs a current production version and an earlier one (promote a version with `sluice models promote`)", name: name)
                }
                let previous = try await connection.query("""
                    SELECT h.version, m.stage FROM \(s).model_stage_history h
                    JOIN \(s).models m ON m.name = h.name AND m.version = h.version
                    WHERE h.name = $1 AND h.to_stage = 'production' AND h.version <> $2::int
                    ORDER BY h.id DESC LIMIT 1
                    """, [name, Int32(current)])
                guard let row = previous.first else {
                    throw RegistryError(.invalidTransition, "cannot roll back model '\(name)': version \(current) is the only version that has been in production, so there is no earlier production version to return to (expected at least one earlier promotion)", name: name, version: current)
                }
                let target = try row.decode(Int.self, column: 0)
                let targetStage = try Self.stage(try row.decode(String.self, column: 1), name: name, version: target)
                try await move(name: name, version: current, from: .production, to: .archived, on: connection)
                try await move(name: name, version: target, from: targetStage, to: .production, on: connection)
                try await notify(name, on: connection)
                return (current, target)
            }
        }
        logger.notice("model rolled back", metadata: [RegistryLogKey.model: "\(name)", RegistryLogKey.from: "\(result.from)", RegistryLogKey.version: "\(result.to)"])
        return result
    }

    /// Archives version `version` of `name`, in one transaction; sends `NOTIFY` when it was the production or shadow
    /// version (archiving the production version leaves `name` without one). Archiving an archived version changes
    /// nothing.
    /// - Returns: The version, archived.
    /// - Throws: ``RegistryError`` `notFound` listing the existing versions; `invalidName`; `PostgresError`.
    package func archive(name: String, version: Int) async throws -> RegisteredModel {
        try Self.validate(name: name)
        let (model, previous) = try await lock.withLock {
            try await connection.transaction { connection in
                try await lockName(name, on: connection)
                let current = try await existingStage(name: name, version: version, on: connection)
                if current != .archived {
                    try await move(name: name, version: version, from: current, to: .archived, on: connection)
                    if current.isServing { try await notify(name, on: connection) }
                }
                return (try await selectModel(name: name, version: version, on: connection), current)
            }
        }
        if previous != .archived {
            logger.info("model archived", metadata: [RegistryLogKey.model: "\(name)", RegistryLogKey.version: "\(version)", RegistryLogKey.fromStage: "\(previous.rawValue)"])
        }
        return model
    }
}
