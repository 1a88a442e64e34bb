/// A model registry operation that was refused, with a message saying what was wrong and what was expected.
///
/// Database failures are not wrapped: they arrive as `PostgresError` with their SQLSTATE.
package struct RegistryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category of a ``RegistryError``.
    package enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// The artifact is not a loadable model in the given (or any known) format, or a stage is not allowed there.
        case invalidModel = "invalid_model"
        /// The model uses features the pipeline does not compute.
        case featureMismatch = "feature_mismatch"
        /// No such model name, version, or model in the asked stage.
        case notFound = "not_found"
        /// The stage change is not allowed (for example rollback without a previous production version).
        case invalidTransition = "invalid_transition"
        /// The stored artifact no longer matches the SHA-256 recorded at registration.
        case corruptArtifact = "corrupt_artifact"
        /// The model name is empty, too long or has characters outside `[A-Za-z0-9._-]`.
        case invalidName = "invalid_name"

        package var description: String { rawValue }
    }

    /// The category.
    package var code: Code
    /// What was wrong and what was expected, naming the model and version.
    package var message: String
    /// The model name the operation was about, when there was one.
    package var name: String?
    /// The version the operation was about, when there was one.
    package var version: Int?

    /// Creates an error.
    package init(_ code: Code, _ message: String, name: String? = nil, version: Int? = nil) {
        self.code = code
        self.message = message
        self.name = name
        self.version = version
    }

    /// Creates an error without context (the memberwise spelling).
    package init(code: Code, message: String) {
        self.init(code, message)
    }

    package var description: String { message }
}
