/// The chi-square formula used for categorical drift.
package enum ChiSquareMode: String, Codable, Sendable {
    /// Evidently: current counts against reference proportions taken as exact. With a
    /// small reference and a large window this flags the reference's own sampling noise.
    case goodnessOfFit
    /// Two-sample test of homogeneity (2×k contingency table), which accounts for both sizes.
    case homogeneity
}
