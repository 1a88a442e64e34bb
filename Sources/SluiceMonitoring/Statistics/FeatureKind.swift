/// Whether a feature is measured on a numeric scale or is a set of categories.
package enum FeatureKind: String, Codable, Sendable {
    case numerical
    case categorical
}
