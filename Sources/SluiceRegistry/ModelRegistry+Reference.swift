import Foundation
import Logging
import SluiceMonitoring
import SluicePostgres

/// Reference profiles of model versions: the `reference` column of `models`, JSON of ``ReferenceProfile``.
extension ModelRegistry {
    /// The reference profile stored with version `version` of `name`, or nil when the version has none yet (it was
    /// registered without `--reference` and no worker has built one from live events).
    /// - Throws: ``RegistryError`` `notFound` when there is no such version (listing the existing ones),
    ///   `invalidName`; ``ReferenceError`` when the stored JSON is not a reference profile; `PostgresError`.
    package func reference(name: String, version: Int) async throws -> ReferenceProfile? {
        try Self.validate(name: name)
        let rows = try await lock.withLock {
            try await connection.query("SELECT reference FROM \(s).models WHERE name = $1 AND version = $2::int",
                                       [name, Int32(clamping: version)], retryIdempotent: true)
        }
        guard let row = rows.first else {
            throw try await missingVersion(name: name, version: version)
        }
        guard let json = try row.decode(PostgresJSONB?.self, column: 0) else { return nil }
        do {
            return try Self.referenceDecoder.decode(ReferenceProfile.self, from: Data(json.bytes))
        } catch {
            throw ReferenceError("model '\(name)' version \(version): the stored reference (\(json.bytes.count) bytes of JSON) is not a reference profile: \(error); store it again with storeReference or register the version again with --reference")
        }
    }

    /// Stores `profile` as the reference of version `version` of `name`, replacing any reference it had.
    ///
    /// Use it for a reference built after registration (a worker's first `drift.reference_events` events); to give a
    /// new version its reference atomically, pass `reference` to
    /// ``register(name:artifact:format:stage:pipelineFeatures:description:reference:)`` instead.
    /// - Throws: ``RegistryError`` `notFound` when there is no such version (listing the existing ones),
    ///   `invalidName`; `EncodingError`; `PostgresError`.
    package func storeReference(name: String, version: Int, profile: ReferenceProfile) async throws {
        try Self.validate(name: name)
        let json = try Self.encodeReference(profile)
        let updated = try await lock.withLock {
            try await connection.execute("UPDATE \(s).models SET reference = $3::text::json WHERE name = $1 AND version = $2::int",
                                         [name, Int32(clamping: version), json])
        }
        guard updated == 1 else {
            throw try await missingVersion(name: name, version: version)
        }
        logger.info("model reference stored", metadata: [
            RegistryLogKey.model: "\(name)", RegistryLogKey.version: "\(version)",
            RegistryLogKey.referenceSource: "\(profile.source)", RegistryLogKey.referenceEvents: "\(profile.events)",
        ])
    }

    /// The profile as the JSON text stored in `models.reference`.
    static func encodeReference(_ profile: ReferenceProfile) throws -> String {
        let encoder = JSONEncoder()
        // A profile holds only finite numbers; spell the others anyway rather than fail on them.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return String(decoding: try encoder.encode(profile), as: UTF8.self)
    }

    static var referenceDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    /// The `notFound` error for a version that does not exist, naming the versions that do.
    private func missingVersion(name: String, version: Int) async throws -> RegistryError {
        let existing = try await lock.withLock {
            try await connection.query("SELECT version FROM \(s).models WHERE name = $1 ORDER BY version", [name])
                .map { try $0.decode(Int.self, column: 0) }
        }
        if existing.isEmpty {
            return RegistryError(.notFound, "model '\(name)' is not registered (expected a name shown by `sluice models list`)", name: name, version: version)
        }
        return RegistryError(.notFound, "model '\(name)' has no version \(version); its versions are \(Self.ranges(existing))", name: name, version: version)
    }
}
