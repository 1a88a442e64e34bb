import SluiceInference

/// One version of a model in the registry, without its artifact bytes.
package struct RegisteredModel: Sendable, Equatable {
    /// The model's name (`[A-Za-z0-9._-]`, at most 100 characters).
    package var name: String
    /// The version, 1 for the first registration of `name`, then one more than the highest so far.
    package var version: Int
    /// The artifact's format.
    package var format: ModelFormat
    /// The lower-case hex SHA-256 of the artifact bytes, computed at registration and checked on every load.
    package var sha256: String
    /// The model's input features, in row order.
    package var featureNames: [String]
    /// The number of values the model predicts per row (1, or the number of classes).
    package var outputCount: Int
    /// The version's current stage.
    package var stage: ModelStage
    /// Free text given at registration.
    package var description: String?
    /// When the version was registered (milliseconds since the Unix epoch).
    package var createdAtMillis: Int64
    /// When the version last changed stage (its registration, if it never did).
    package var stageChangedAtMillis: Int64

    /// Creates a value; the registry builds these from its rows.
    package init(name: String, version: Int, format: ModelFormat, sha256: String, featureNames: [String], outputCount: Int,
                 stage: ModelStage, description: String?, createdAtMillis: Int64, stageChangedAtMillis: Int64) {
        self.name = name
        self.version = version
        self.format = format
        self.sha256 = sha256
        self.featureNames = featureNames
        self.outputCount = outputCount
        self.stage = stage
        self.description = description
        self.createdAtMillis = createdAtMillis
        self.stageChangedAtMillis = stageChangedAtMillis
    }
}
