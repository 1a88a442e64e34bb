import Foundation

/// One condition of the promotion gate: `METRIC OP BOUND`, such as `auc>=0.8`, `logloss<=production` or
/// `auc>=production-0.01`.
///
/// Grammar (spaces anywhere are ignored; metric and `production` in any case):
/// ```
/// requirement = metric op bound
/// metric      = auc | logloss | accuracy | precision | recall | f1 | rmse | mae | r2
/// op          = ">=" | ">" | "<=" | "<"
/// bound       = number | "production" | "production" ("+" | "-") number
/// ```
/// A number is a finite decimal (`0.8`, `1e-3`, `-2`).
package struct GateRequirement: Sendable, Hashable, CustomStringConvertible {
    /// The text as given (for tables and messages).
    package var text: String
    /// The metric compared.
    package var metric: Metric
    /// How the candidate's value compares with the bound.
    package var comparison: GateComparison
    /// What it is compared with.
    package var bound: GateBound

    /// Creates a requirement from its parts; `text` defaults to their canonical spelling.
    package init(metric: Metric, comparison: GateComparison, bound: GateBound, text: String? = nil) {
        self.metric = metric
        self.comparison = comparison
        self.bound = bound
        self.text = text ?? Self.spell(metric: metric, comparison: comparison, bound: bound)
    }

    /// The form every parse error repeats.
    package static let expectedForm = "expected METRIC OP VALUE, where METRIC is one of \(Metric.allCases.map(\.rawValue).joined(separator: ", ")), OP one of >=, >, <=, <, and VALUE a number, `production` or `production+X`/`production-X` (e.g. \"auc>=0.8\", \"logloss<=production\", \"auc>=production-0.01\")"

    /// Parses `text`.
    /// - Throws: ``GateRequirementError`` naming `text`, what is wrong, and ``expectedForm``.
    package init(parsing text: String) throws(GateRequirementError) {
        let compact = String(text.filter { !$0.isWhitespace })
        func failure(_ problem: String) -> GateRequirementError {
            GateRequirementError(text: text, message: "--require \"\(text)\": \(problem); \(Self.expectedForm)")
        }
        guard !compact.isEmpty else { throw failure("the requirement is empty") }
        guard let opStart = compact.firstIndex(where: { "<>=!".contains($0) }) else {
            throw failure("no comparison operator")
        }
        let metricText = compact[..<opStart].lowercased()
        var opEnd = opStart
        while opEnd < compact.endIndex, "<>=!".contains(compact[opEnd]) { opEnd = compact.index(after: opEnd) }
        let opText = String(compact[opStart..<opEnd])
        let boundText = compact[opEnd...].lowercased()
        guard !metricText.isEmpty else { throw failure("no metric before \"\(opText)\"") }
        guard let metric = Metric(rawValue: metricText) else { throw failure("unknown metric \"\(metricText)\"") }
        guard let comparison = GateComparison(rawValue: opText) else {
            throw failure("\"\(opText)\" is not a comparison operator")
        }
        guard !boundText.isEmpty else { throw failure("no value after \"\(opText)\"") }
        let bound: GateBound
        if boundText.hasPrefix("production") {
            let rest = boundText.dropFirst("production".count)
            if rest.isEmpty {
                bound = .production(offset: 0)
            } else {
                guard let sign = rest.first, sign == "+" || sign == "-" else {
                    throw failure("\"\(boundText)\" is not `production`, `production+X` or `production-X`")
                }
                let magnitudeText = rest.dropFirst()
                guard let first = magnitudeText.first, first.isNumber || first == ".",
                      let magnitude = Double(magnitudeText), magnitude.isFinite else {
                    throw failure("\"\(magnitudeText)\" after \"production\(sign)\" is not a number")
                }
                bound = .production(offset: sign == "-" ? -magnitude : magnitude)
            }
        } else {
            guard let value = Double(boundText), value.isFinite,
                  boundText.allSatisfy({ $0.isNumber || "+-.e".contains($0) }) else {
                throw failure("\"\(boundText)\" is neither a number nor `production`")
            }
            bound = .value(value)
        }
        self.init(metric: metric, comparison: comparison, bound: bound, text: text.trimmingSpaces())
    }

    /// Evaluates the requirement on the candidate's value and the production version's (nil when there is none).
    /// - Parameter allowFirst: When there is no production version, skip a requirement that refers to production
    ///   instead of failing it.
    package func check(candidate: Double, production: Double?, allowFirst: Bool = false) -> GateCheck {
        guard let threshold = bound.resolve(production: production) else {
            if allowFirst {
                return GateCheck(requirement: self, candidate: candidate, production: nil, threshold: nil,
                                 outcome: .skipped("no production version to compare with (--allow-first)"))
            }
            return GateCheck(requirement: self, candidate: candidate, production: nil, threshold: nil,
                             outcome: .failed("it compares with the production version, and there is none (pass --allow-first to promote a first version on the other requirements)"))
        }
        if comparison.holds(candidate, threshold) {
            return GateCheck(requirement: self, candidate: candidate, production: production, threshold: threshold, outcome: .passed)
        }
        // Six decimals unless they make the two figures look equal (a failure by a hair): then every digit.
        let hair = Self.format(candidate) == Self.format(threshold)
        let figure: (Double) -> String = { hair ? "\($0)" : Self.format($0) }
        let against = bound.referencesProduction
            ? "\(figure(threshold)) (production \(production.map(figure) ?? "–")\(Self.offsetText(bound)))"
            : figure(threshold)
        let reason = "candidate \(metric) \(figure(candidate)) is not \(comparison) \(against)"
        return GateCheck(requirement: self, candidate: candidate, production: production, threshold: threshold, outcome: .failed(reason))
    }

    package var description: String { text }

    /// A figure for tables and messages: six decimals (`0.912345`), or the shortest exact spelling for a value
    /// too large or too small for that to be meaningful.
    package static func format(_ value: Double) -> String {
        guard value.isFinite, value != 0, abs(value) >= 1e-4, abs(value) < 1e9 else { return "\(value)" }
        return String(format: "%.6f", value)
    }

    private static func offsetText(_ bound: GateBound) -> String {
        guard case .production(let offset) = bound, offset != 0 else { return "" }
        return offset > 0 ? " + \(offset)" : " - \(-offset)"
    }

    private static func spell(metric: Metric, comparison: GateComparison, bound: GateBound) -> String {
        switch bound {
        case .value(let value): "\(metric)\(comparison)\(value)"
        case .production(let offset) where offset == 0: "\(metric)\(comparison)production"
        case .production(let offset): "\(metric)\(comparison)production\(offset > 0 ? "+" : "-")\(abs(offset))"
        }
    }
}

extension String {
    /// The string without spaces and tabs at either end.
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
