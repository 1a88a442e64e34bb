/// `shutdown:` — graceful stop on SIGTERM.
package struct ShutdownConfig: Hashable, Sendable {
    /// `timeout`: drain, commit and flush must finish within this.
    package var timeout: Duration = .seconds(25)

    /// All defaults.
    package init() {}

    static func decode(_ m: MappingReader) -> ShutdownConfig {
        var c = ShutdownConfig()
        c.timeout = m.value("timeout", default: c.timeout, .duration(.seconds(1)...Duration.seconds(3600)))
        return c
    }
}
