/// A secret string (password, token, URL with a password) whose printed forms never show it.
///
/// `description`, `debugDescription`, `dump` and string interpolation all give `redacted`; read `value` only to
/// hand the secret to the library that needs it.
package struct ConfigSecret: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself.
    package let value: String
    /// What to show instead: `<redacted>`, or a partly redacted form such as a URL without its password.
    package let redacted: String

    /// The placeholder shown for a fully redacted secret.
    package static let placeholder = "<redacted>"

    /// Wraps `value`, shown as `<redacted>`.
    package init(_ value: String) {
        self.value = value
        self.redacted = Self.placeholder
    }

    /// Wraps `value`, shown as `redacted`.
    package init(_ value: String, redacted: String) {
        self.value = value
        self.redacted = redacted
    }

    /// Wraps a PostgreSQL connection string, shown with only its password replaced.
    package static func postgresURL(_ value: String) -> ConfigSecret {
        ConfigSecret(value, redacted: PostgresURLRedaction.redact(value))
    }

    /// The redacted form.
    package var description: String { redacted }
    /// The redacted form.
    package var debugDescription: String { redacted }
    /// A mirror without children, so `dump` and reflection cannot reach `value`.
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
