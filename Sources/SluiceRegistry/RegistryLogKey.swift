/// Logger metadata keys used by this module (one place, so dashboards can rely on them).
enum RegistryLogKey {
    static let model = "model.name"
    static let version = "model.version"
    static let from = "model.from_version"
    static let stage = "model.stage"
    static let fromStage = "model.from_stage"
    static let sha256 = "model.sha256"
    static let referenceSource = "model.reference.source"
    static let referenceEvents = "model.reference.events"
}
