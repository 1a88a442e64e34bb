/// Hides the password of a libpq connection string: `postgres://user:pw@host/db` → `postgres://user:<redacted>@host/db`,
/// `?password=pw` and keyword form `password=pw` alike.
package enum PostgresURLRedaction {
    /// `text` with every password replaced by `<redacted>`.
    package static func redact(_ text: String) -> String {
        let placeholder = ConfigSecret.placeholder
        if let schemeEnd = text.firstRange(of: "://") {
            let scheme = text[..<schemeEnd.upperBound]
            var rest = String(text[schemeEnd.upperBound...])
            // The user info ends at the last '@' before the query, so a raw '@' or '/' in a password is covered too.
            let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
            if let at = rest[..<queryStart].lastIndex(of: "@") {
                let userInfo = rest[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    rest = String(userInfo[..<colon]) + ":" + placeholder + String(rest[at...])
                }
            }
            if let question = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
                    pair.lowercased().hasPrefix("password=") ? "password=" + placeholder : String(pair)
                }
                rest = String(rest[...question]) + query.joined(separator: "&")
            }
            return String(scheme) + rest
        }
        return redactKeywordForm(text)
    }

    /// `host=h password='p w' dbname=d` → `host=h password=<redacted> dbname=d`.
    private static func redactKeywordForm(_ text: String) -> String {
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            let atWordStart = index == text.startIndex || text[text.index(before: index)] == " "
            if atWordStart, rest.lowercased().hasPrefix("password") {
                var cursor = text.index(index, offsetBy: "password".count)
                while cursor < text.endIndex, text[cursor] == " " { cursor = text.index(after: cursor) }
                if cursor < text.endIndex, text[cursor] == "=" {
                    cursor = text.index(after: cursor)
                    while cursor < text.endIndex, text[cursor] == " " { cursor = text.index(after: cursor) }
                    cursor = endOfValue(in: text, from: cursor)
                    output += "password=" + ConfigSecret.placeholder
                    index = cursor
                    continue
                }
            }
            output.append(text[index])
            index = text.index(after: index)
        }
        return output
    }

    private static func endOfValue(in text: String, from start: String.Index) -> String.Index {
        var cursor = start
        if cursor < text.endIndex, text[cursor] == "'" {
            cursor = text.index(after: cursor)
            while cursor < text.endIndex, text[cursor] != "'" {
                if text[cursor] == "\\" { cursor = text.index(after: cursor) }
                if cursor < text.endIndex { cursor = text.index(after: cursor) }
            }
            return cursor < text.endIndex ? text.index(after: cursor) : cursor
        }
        while cursor < text.endIndex, text[cursor] != " " { cursor = text.index(after: cursor) }
        return cursor
    }

    /// Whether `text` looks like a libpq connection string (URL with a postgres scheme, or `key=value` pairs).
    static func isConnectionString(_ text: String) -> Bool {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return true
        }
        return !text.contains("://") && text.contains("=")
    }
}
