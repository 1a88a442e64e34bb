/// `logging:` — log level and line format.
package struct LoggingConfig: Hashable, Sendable {
    /// `level`, spelled as swift-log's `Logger.Level`.
    package enum Level: String, CaseIterable, Hashable, Sendable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// `format`.
    package enum Format: String, CaseIterable, Hashable, Sendable {
        case text, json
    }

    /// `level`.
    package var level: Level = .info
    /// `format`.
    package var format: Format = .text

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> LoggingConfig {
        var c = LoggingConfig()
        c.level = m.value("level", default: c.level, .oneOf(Level.self))
        c.format = m.value("format", default: c.format, .oneOf(Format.self))
        return c
    }
}
