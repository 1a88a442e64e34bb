/// Rules for names that become SQL column names and JSON keys.
package enum IdentifierRules {
    /// The longest name PostgreSQL keeps without truncation.
    package static let maximumLength = 63

    /// Why `text` is not an identifier `[a-z_][a-z0-9_]*` of at most 63 characters, or nil when it is.
    package static func problem(with text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else {
            return "empty name; expected an identifier matching [a-z_][a-z0-9_]*"
        }
        if bytes.count > maximumLength {
            return "'\(text)' is \(bytes.count) characters long; expected at most \(maximumLength)"
        }
        let isLower = { (b: UInt8) in b >= 0x61 && b <= 0x7A }
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        if !(isLower(first) || first == 0x5F) || !bytes.allSatisfy({ isLower($0) || isDigit($0) || $0 == 0x5F }) {
            return "'\(text)' is not a valid name; expected an identifier matching [a-z_][a-z0-9_]* (lower case letters, digits, underscores)"
        }
        return nil
    }
}
