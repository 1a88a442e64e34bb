import CLibPQ

/// How to reach a PostgreSQL server.
///
/// Built from a URL (`postgres://user:password@host:port/database?sslmode=require`)
/// or a libpq keyword string (`host=127.0.0.1 port=5432 dbname=sluice`). The
/// text is parsed with libpq's own parser at construction, so a malformed value
/// fails early with a readable error. Every libpq parameter (`sslmode`,
/// `target_session_attrs`, `options`, ...) passes through unchanged.
/// `connectTimeout` and `applicationName`, when set, override the same keys in
/// the text. `description` never shows the password.
package struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// Connection parameters in libpq keyword form, in the order parsed.
    package private(set) var parameters: [(keyword: String, value: String)]
    /// Seconds libpq waits for the connection to be established (libpq
    /// `connect_timeout`; libpq applies it per host address). Default 10.
    package var connectTimeoutSeconds: Int
    /// `application_name` reported to the server (shown in pg_stat_activity).
    package var applicationName: String?
    /// How a lost connection is re-established on next use.
    package var reconnect: PostgresReconnectPolicy

    /// Parses a URL or keyword string.
    /// - Throws: `PostgresError` with code `.invalidConfiguration` naming the
    ///   offending text (password redacted) and the expected form.
    package init(
        _ text: String,
        connectTimeoutSeconds: Int? = nil,
        applicationName: String? = nil,
        reconnect: PostgresReconnectPolicy = .init()
    ) throws {
        let trimmed = text.trimmingWhitespace()
        let isURL = trimmed.contains("://")
        if isURL && !(trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://")) {
            throw Self.invalid(trimmed, isURL: true, reason: "the scheme must be postgres:// or postgresql://")
        }
        if !isURL && !trimmed.isEmpty && !trimmed.contains("=") {
            throw Self.invalid(trimmed, isURL: false, reason: "neither a URL nor key=value pairs")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(trimmed, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0).trimmingWhitespace() } ?? "libpq could not parse it"
            if let errorMessage { PQfreemem(errorMessage) }
            throw Self.invalid(trimmed, isURL: isURL, reason: reason)
        }
        defer { PQconninfoFree(options) }
        var parsed: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parsed.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        // libpq checks these only when connecting; fail early with a clear message.
        if let ports = parsed.last(where: { $0.keyword == "port" })?.value {
            for port in ports.split(separator: ",", omittingEmptySubsequences: false) where Int(port).map({ !(1...65535).contains($0) }) ?? !port.isEmpty {
                throw Self.invalid(trimmed, isURL: isURL, reason: "port '\(port)' is not a number between 1 and 65535")
            }
        }
        if let timeout = parsed.last(where: { $0.keyword == "connect_timeout" })?.value, Int(timeout) == nil {
            throw Self.invalid(trimmed, isURL: isURL, reason: "connect_timeout '\(timeout)' is not a whole number of seconds")
        }
        self.parameters = parsed
        let fromText = parsed.last(where: { $0.keyword == "connect_timeout" }).flatMap { Int($0.value) }
        self.connectTimeoutSeconds = connectTimeoutSeconds ?? fromText ?? 10
        self.applicationName = applicationName ?? parsed.last(where: { $0.keyword == "application_name" })?.value
        self.reconnect = reconnect
    }

    /// The value of a libpq keyword as given in the text (e.g. "sslmode"), if present.
    package func value(of keyword: String) -> String? {
        parameters.last(where: { $0.keyword == keyword })?.value
    }

    /// Keyword/value pairs handed to `PQconnectdbParams`, overrides applied.
    var connectParameters: [(keyword: String, value: String)] {
        var result = parameters.filter { $0.keyword != "connect_timeout" && $0.keyword != "application_name" }
        result.append(("connect_timeout", String(max(connectTimeoutSeconds, 1))))
        if let applicationName { result.append(("application_name", applicationName)) }
        return result
    }

    /// Keyword form with the password replaced by `*****`.
    package var description: String {
        connectParameters.map { pair in
            let value = pair.keyword == "password" ? "*****" : pair.value
            return "\(pair.keyword)=\(Self.quote(value))"
        }.joined(separator: " ")
    }

    private static func quote(_ value: String) -> String {
        if !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" }) { return value }
        return "'" + value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'") + "'"
    }

    private static func invalid(_ text: String, isURL: Bool, reason: String) -> PostgresError {
        let shown = redact(text)
        let message = isURL
            ? "invalid PostgreSQL URL '\(shown)': expected postgres://user:password@host:port/database (\(reason))"
            : "invalid PostgreSQL connection string '\(shown)': expected a URL postgres://user:password@host:port/database or libpq key=value pairs (\(reason))"
        return PostgresError(code: .invalidConfiguration, message: message)
    }

    /// Hides a password in a URL (`user:secret@`) or a keyword string (`password=secret`).
    package static func redact(_ text: String) -> String {
        var chars = Array(text)
        if let schemeEnd = text.firstRange(of: "://") {
            let start = text.distance(from: text.startIndex, to: schemeEnd.upperBound)
            if let at = chars[start...].firstIndex(of: "@"),
               let colon = chars[start..<at].firstIndex(of: ":") {
                chars.replaceSubrange((colon + 1)..<at, with: Array("*****"))
            }
            return String(chars)
        }
        guard let range = text.firstRange(of: "password") else { return text }
        var index = text.distance(from: text.startIndex, to: range.upperBound)
        while index < chars.count && chars[index] == " " { index += 1 }
        guard index < chars.count, chars[index] == "=" else { return text }
        index += 1
        while index < chars.count && chars[index] == " " { index += 1 }
        var end = index
        if end < chars.count && chars[end] == "'" {
            end += 1
            while end < chars.count && chars[end] != "'" { end += chars[end] == "\\" ? 2 : 1 }
            end = min(end + 1, chars.count)
        } else {
            while end < chars.count && chars[end] != " " { end += 1 }
        }
        chars.replaceSubrange(index..<end, with: Array("*****"))
        return String(chars)
    }
}
