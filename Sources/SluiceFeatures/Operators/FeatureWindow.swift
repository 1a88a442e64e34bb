/// The event-time extent a feature aggregates over.
///
/// Named `FeatureWindow` rather than `Window` so that it cannot collide with the drift monitor's windows
/// when both modules are imported together.
package enum FeatureWindow: Sendable, Hashable {
    /// Every event of the entity known so far (no eviction).
    case lifetime
    /// A sliding event-time window of `durationMillis`, kept as tiles of `tileMillis` each.
    ///
    /// `tileMillis` must divide `durationMillis`. See `docs/features.md` for the exact semantics.
    case sliding(durationMillis: Int64, tileMillis: Int64)

    /// The smallest allowed sliding window: one second.
    package static let minimumDurationMillis: Int64 = 1_000
    /// The largest allowed sliding window: thirty days.
    package static let maximumDurationMillis: Int64 = 30 * 86_400_000

    /// The "nice" tile resolutions the default is picked from, ascending.
    package static let niceTileMillis: [Int64] = [
        1, 5, 10, 15, 30, 60, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400,
    ].map { $0 * 1_000 }

    /// A sliding window of `durationMillis` with the default tile resolution for that duration.
    package static func sliding(durationMillis: Int64) -> FeatureWindow {
        .sliding(durationMillis: durationMillis, tileMillis: defaultTileMillis(forDurationMillis: durationMillis))
    }

    /// The default tile resolution for a window of `durationMillis`.
    ///
    /// The largest r in `niceTileMillis` with `durationMillis % r == 0` and `durationMillis / r >= 24`;
    /// otherwise `durationMillis / 24` rounded down to whole seconds if that divides the window, else 1 s.
    /// For every valid window (whole seconds, at least 24 s) a nice resolution exists because 1 s is nice;
    /// windows below 24 s get 1 s tiles.
    package static func defaultTileMillis(forDurationMillis duration: Int64) -> Int64 {
        for r in niceTileMillis.reversed() where duration % r == 0 && duration / r >= 24 {
            return r
        }
        let fallback = (duration / 24) / 1_000 * 1_000
        if fallback > 0 && duration % fallback == 0 { return fallback }
        return 1_000
    }
}
