import SluiceInference
import SluicePostgres

/// The statements and row decoding behind ``ModelRegistry``; each helper runs on the connection it is given
/// (the open transaction).
extension ModelRegistry {
    /// The columns ``decodeModel(_:)`` reads, in order.
    static let columns = "name, version, format, sha256, feature_names, output_count, stage, description, created_at, stage_changed_at"

    /// Serialises changes to one name until the transaction ends: version numbering and the one-production /
    /// one-shadow moves read, then write, and two transactions doing that at once would collide.
    func lockName(_ name: String, on connection: PostgresConnection) async throws {
        try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["sluice.models.\(schema).\(name)"])
    }

    /// The version of `name` in `stage` (production or shadow hold at most one).
    func versionIn(_ stage: ModelStage, name: String, on connection: PostgresConnection) async throws -> Int? {
        let rows = try await connection.query("SELECT version FROM \(s).models WHERE name = $1 AND stage = $2", [name, stage.rawValue])
        return try rows.first?.decode(Int.self, column: 0)
    }

    /// Every version of `name`, ascending.
    func versions(of name: String, on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query("SELECT version FROM \(s).models WHERE name = $1 ORDER BY version", [name])
            .map { try $0.decode(Int.self, column: 0) }
    }

    /// The stage of an existing version.
    /// - Throws: ``RegistryError`` `notFound` naming the versions that do exist.
    func existingStage(name: String, version: Int, on connection: PostgresConnection) async throws -> ModelStage {
        let rows = try await connection.query("SELECT stage FROM \(s).models WHERE name = $1 AND version = $2::int",
                                              [name, Int32(clamping: version)])
        if let row = rows.first {
            return try Self.stage(try row.decode(String.self, column: 0), name: name, version: version)
        }
        let existing = try await versions(of: name, on: connection)
        if existing.isEmpty {
            throw RegistryError(.notFound, "model '\(name)' is not registered (expected a name shown by `sluice models list`)", name: name, version: version)
        }
        throw RegistryError(.notFound, "model '\(name)' has no version \(version); its versions are \(Self.ranges(existing))", name: name, version: version)
    }

    /// One version's row, decoded.
    func selectModel(name: String, version: Int, on connection: PostgresConnection) async throws -> RegisteredModel {
        let rows = try await connection.query("SELECT \(Self.columns) FROM \(s).models WHERE name = $1 AND version = $2::int",
                                              [name, Int32(clamping: version)])
        guard let row = rows.first else {
            throw RegistryError(.notFound, "model '\(name)' has no version \(version)", name: name, version: version)
        }
        return try Self.decodeModel(row)
    }

    /// Changes a version's stage and records the change.
    func move(name: String, version: Int, from: ModelStage, to: ModelStage, on connection: PostgresConnection) async throws {
        try await connection.execute("UPDATE \(s).models SET stage = $3, stage_changed_at = now() WHERE name = $1 AND version = $2::int",
                                     [name, Int32(clamping: version), to.rawValue])
        try await recordHistory(name: name, version: version, from: from, to: to, on: connection)
    }

    func recordHistory(name: String, version: Int, from: ModelStage?, to: ModelStage, on connection: PostgresConnection) async throws {
        try await connection.execute("INSERT INTO \(s).model_stage_history (name, version, from_stage, to_stage) VALUES ($1, $2::int, $3, $4)",
                                     [name, Int32(clamping: version), from?.rawValue, to.rawValue])
    }

    /// `NOTIFY sluice_models, name`, delivered by PostgreSQL when (and only if) the transaction commits.
    func notify(_ name: String, on connection: PostgresConnection) async throws {
        try await connection.notify(channel: Self.notificationChannel, payload: name)
    }

    // MARK: Rows

    static func decodeModel(_ row: PostgresRow) throws -> RegisteredModel {
        let name = try row.decode(String.self, column: 0)
        let version = try row.decode(Int.self, column: 1)
        let formatText = try row.decode(String.self, column: 2)
        guard let format = ModelFormat(rawValue: formatText) else {
            throw RegistryError(.invalidModel, "model '\(name)' version \(version) has format '\(formatText)', expected one of \(ModelFormat.allCases.map(\.rawValue).joined(separator: ", "))", name: name, version: version)
        }
        return RegisteredModel(
            name: name, version: version, format: format,
            sha256: try row.decode(String.self, column: 3),
            featureNames: try row.decode([String].self, column: 4),
            outputCount: try row.decode(Int.self, column: 5),
            stage: try stage(try row.decode(String.self, column: 6), name: name, version: version),
            description: try row.decode(String?.self, column: 7),
            createdAtMillis: try row.decode(PostgresTimestamp.self, column: 8).millis,
            stageChangedAtMillis: try row.decode(PostgresTimestamp.self, column: 9).millis)
    }

    /// Decodes a row of ``columns`` plus `artifact`, verifies the artifact's SHA-256 and loads it.
    static func loadArtifact(_ row: PostgresRow) throws -> (RegisteredModel, LoadedModel) {
        let registered = try decodeModel(row)
        let artifact = try row.decode(PostgresBytea.self, column: 10).bytes
        let actual = ArtifactDigest.sha256Hex(artifact)
        guard actual == registered.sha256 else {
            throw RegistryError(.corruptArtifact, "model '\(registered.name)' version \(registered.version): the stored artifact (\(artifact.count) bytes) has sha256 \(actual), but sha256 \(registered.sha256) was recorded at registration; the bytes changed since, so the model is not loaded (register the model file again)", name: registered.name, version: registered.version)
        }
        let model: LoadedModel
        do {
            model = try ModelLoader.load(bytes: artifact, format: registered.format)
        } catch {
            throw RegistryError(.invalidModel, "model '\(registered.name)' version \(registered.version): its artifact matches its sha256 but no longer loads as \(registered.format.rawValue): \(error.message)", name: registered.name, version: registered.version)
        }
        guard model.featureNames == registered.featureNames else {
            throw RegistryError(.corruptArtifact, "model '\(registered.name)' version \(registered.version): the artifact's features [\(model.featureNames.joined(separator: ", "))] differ from those recorded at registration [\(registered.featureNames.joined(separator: ", "))]", name: registered.name, version: registered.version)
        }
        return (registered, model)
    }

    static func stage(_ text: String, name: String, version: Int) throws -> ModelStage {
        guard let stage = ModelStage(rawValue: text) else {
            throw RegistryError(.invalidTransition, "model '\(name)' version \(version) has stage '\(text)', expected one of \(ModelStage.allCases.map(\.rawValue).joined(separator: ", "))", name: name, version: version)
        }
        return stage
    }

    // MARK: Checks

    /// - Throws: ``RegistryError`` `invalidName` unless `name` is 1 to 100 characters of `[A-Za-z0-9._-]`.
    package static func validate(name: String) throws {
        let expected = "expected 1 to \(maximumNameLength) characters from A-Z, a-z, 0-9, '.', '_' and '-'"
        if name.isEmpty {
            throw RegistryError(.invalidName, "model name is empty; \(expected)")
        }
        if name.unicodeScalars.count > maximumNameLength {
            throw RegistryError(.invalidName, "model name '\(name.prefix(20))…' has \(name.unicodeScalars.count) characters; \(expected)", name: name)
        }
        let bad = name.unicodeScalars.filter { scalar in
            !(("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
        }
        if let first = bad.first {
            let hex = String(first.value, radix: 16, uppercase: true)
            let invisible = first.properties.isWhitespace || first.value < 0x20
            let shown = invisible ? "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex : "'\(first)'"
            throw RegistryError(.invalidName, "model name '\(name)' contains \(shown); \(expected)", name: name)
        }
    }

    /// - Throws: ``RegistryError`` `featureMismatch` listing every model feature missing from `pipelineFeatures`.
    static func checkFeatures(_ modelFeatures: [String], name: String, pipelineFeatures: [String]) throws {
        let available = Set(pipelineFeatures)
        var seen = Set<String>()
        let missing = modelFeatures.filter { !available.contains($0) && seen.insert($0).inserted }
        guard !missing.isEmpty else { return }
        let pipeline = pipelineFeatures.isEmpty ? "the pipeline computes no features" : "the pipeline computes: \(pipelineFeatures.joined(separator: ", "))"
        throw RegistryError(.featureMismatch, "model '\(name)' uses \(missing.count) feature(s) the pipeline does not compute: \(missing.joined(separator: ", ")); expected every model feature to be a pipeline feature (\(pipeline))", name: name)
    }

    /// `1-3, 5` for [1, 2, 3, 5].
    static func ranges(_ versions: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < versions.count {
            var end = index
            while end + 1 < versions.count && versions[end + 1] == versions[end] + 1 { end += 1 }
            parts.append(end == index ? "\(versions[index])" : "\(versions[index])-\(versions[end])")
            index = end + 1
        }
        return parts.joined(separator: ", ")
    }
}

extension PostgresTimestamp {
    /// Milliseconds since the Unix epoch, rounded down.
    var millis: Int64 {
        let (quotient, remainder) = microsecondsSinceUnixEpoch.quotientAndRemainder(dividingBy: 1_000)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
