/// Where a registered model version stands in its life cycle.
///
/// Per model name there is at most one `production` version (the champion every worker scores with) and at most
/// one `shadow` version (the challenger scored alongside it, whose scores are logged but not acted on); any number of
/// versions can be `staging` (registered, not serving) or `archived` (retired, kept for audit and rollback).
package enum ModelStage: String, Sendable, CaseIterable {
    /// Registered and not serving; the default stage of a new version.
    case staging
    /// Scored next to production as a challenger; at most one per name.
    case shadow
    /// The version that scores events; at most one per name.
    case production
    /// Retired. An archived version can be promoted again (that is what `rollback` does).
    case archived

    /// Whether workers load the version in this stage (a change here is announced with `NOTIFY`).
    package var isServing: Bool { self == .production || self == .shadow }
}
