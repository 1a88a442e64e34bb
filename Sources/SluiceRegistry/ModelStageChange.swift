/// One row of a model's stage history (`model_stage_history`): a version entering a stage.
package struct ModelStageChange: Sendable, Equatable {
    /// The version that changed stage.
    package var version: Int
    /// The stage it left; nil for its registration.
    package var from: ModelStage?
    /// The stage it entered.
    package var to: ModelStage
    /// When (milliseconds since the Unix epoch); changes made in one transaction share the time.
    package var changedAtMillis: Int64

    /// Creates a value; the registry builds these from its rows.
    package init(version: Int, from: ModelStage?, to: ModelStage, changedAtMillis: Int64) {
        self.version = version
        self.from = from
        self.to = to
        self.changedAtMillis = changedAtMillis
    }
}
