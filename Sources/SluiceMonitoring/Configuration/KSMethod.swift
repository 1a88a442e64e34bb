/// How the two-sample KS p-value is computed.
package enum KSMethod: String, Codable, Sendable {
    /// scipy's `method="auto"`: exact when both samples have at most 10,000 values
    /// (up to a few milliseconds for 1,000 vs 10,000), asymptotic otherwise.
    case auto
    /// Always Smirnov's asymptotic form (tens of microseconds); differs from the exact
    /// p-value by well under 0.01 once both samples have a few hundred values.
    case asymptotic
}
