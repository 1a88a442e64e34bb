/// Optimal-string-alignment edit distance (Levenshtein plus adjacent transpositions), for "did you mean" hints.
package enum EditDistance {
    /// The number of single-character insertions, deletions, substitutions and adjacent swaps turning `a` into `b`.
    package static func distance(_ a: String, _ b: String) -> Int {
        let s = Array(a.unicodeScalars)
        let t = Array(b.unicodeScalars)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        let width = t.count + 1
        var rows = [Int](repeating: 0, count: (s.count + 1) * width)
        for j in 0...t.count { rows[j] = j }
        for i in 1...s.count {
            rows[i * width] = i
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                var best = min(rows[(i - 1) * width + j] + 1, rows[i * width + j - 1] + 1, rows[(i - 1) * width + j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    best = min(best, rows[(i - 2) * width + j - 2] + 1)
                }
                rows[i * width + j] = best
            }
        }
        return rows[s.count * width + t.count]
    }

    /// The candidate nearest to `word`, if it is close enough to be a plausible typo
    /// (distance ≤ 2, or ≤ a third of the word's length for long words, or one is a prefix of the other
    /// such as `warn`/`warning`). Ties go to the earlier candidate.
    package static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(2, word.unicodeScalars.count / 3)
        let lowerWord = word.lowercased()
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let lowerCandidate = candidate.lowercased()
            let d = distance(lowerWord, lowerCandidate)
            let isPrefix = min(lowerWord.count, lowerCandidate.count) >= 3
                && (lowerCandidate.hasPrefix(lowerWord) || lowerWord.hasPrefix(lowerCandidate))
            if d <= limit || isPrefix, d < (best?.distance ?? Int.max) {
                best = (candidate, d)
            }
        }
        return best?.name
    }
}
