import Testing
@testable import SluiceConfiguration

/// The configuration example of DESIGN.md's "Configuration" section, copied verbatim.
let designExample = """
source:
  topics: [transactions]
  entity: user_id            # field holding the entity id
  event_time: ts             # RFC 3339 string or epoch milliseconds
  allowed_lateness: 5m
  fields: {amount: double, merchant: string, country: string}
features:
  - {name: amount, value: amount}
  - {name: txn_count_1h, aggregate: count, window: 1h}
  - {name: amount_mean_24h, aggregate: mean, of: amount, window: 24h}
  - {name: merchants_7d, aggregate: approx_distinct, of: merchant, window: 7d}
  - {name: secs_since_last, aggregate: time_since_last}
"""

/// A small valid base: the design example's source plus one feature, to which tests append sections.
let minimalSource = """
source:
  topics: [transactions]
  entity: user_id
  event_time: ts
  fields: {amount: double, merchant: string, count: int, flag: bool, note: string?}
"""

let minimalFeatures = """
features:
  - {name: amount, value: amount}
"""

/// Loads YAML with an environment and an in-memory secret file system.
func load(_ yaml: String, env: [String: String] = [:], files: [String: String] = [:]) throws(ConfigErrors) -> ConfigLoadResult {
    try SluiceConfig.load(yamlText: yaml, environment: env, secretFiles: { path in
        guard let text = files[path] else { throw MissingFile(path: path) }
        return text
    })
}

struct MissingFile: Error, CustomStringConvertible {
    var path: String
    var description: String { "no such file" }
}

/// The errors of a load that must fail; records a test issue when it succeeds.
func loadErrors(
    _ yaml: String, env: [String: String] = [:], files: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigErrors {
    do {
        _ = try load(yaml, env: env, files: files)
        Issue.record("expected the load to fail", sourceLocation: sourceLocation)
        return ConfigErrors([])
    } catch {
        return error
    }
}

/// Loads `minimalSource` + `minimalFeatures` + `extra` and returns the single error at `path`.
func singleError(
    _ extra: String, features: String = minimalFeatures, env: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigError? {
    let errors = loadErrors(minimalSource + "\n" + features + "\n" + extra, env: env, sourceLocation: sourceLocation)
    #expect(errors.errors.count == 1, "expected one error, got: \(errors)", sourceLocation: sourceLocation)
    return errors.errors.first
}

/// Milliseconds per unit, written out from the unit definitions (1 s = 1000 ms, 1 m = 60 s, 1 h = 60 m, 1 d = 24 h).
enum Milliseconds {
    static let second: Int64 = 1000
    static let minute: Int64 = 60 * second
    static let hour: Int64 = 60 * minute
    static let day: Int64 = 24 * hour
}
