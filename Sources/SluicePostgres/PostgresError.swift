/// An error from the PostgreSQL layer.
///
/// `code` says what kind of failure it was; server errors also carry the
/// SQLSTATE (`"23505"` for a unique violation) and the server's message,
/// detail and hint. `query` holds the SQL text of the failing statement, never
/// its parameter values: they may be secrets.
package struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let name: String
        private init(_ name: String) { self.name = name }
        package var description: String { name }

        /// The connection could not be opened (bad address, refused, timeout, authentication).
        package static let connectionFailed = Code("connectionFailed")
        /// The connection broke while a statement was in flight or a transaction was open;
        /// whether the statement ran is unknown.
        package static let connectionLost = Code("connectionLost")
        /// The server rejected a statement; see `sqlState`.
        package static let server = Code("server")
        /// libpq or the server answered something this layer did not expect.
        package static let protocolViolation = Code("protocolViolation")
        /// A column value could not be decoded into the requested Swift type.
        package static let decoding = Code("decoding")
        /// A parameter value could not be encoded.
        package static let encoding = Code("encoding")
        /// No pool connection became free within the acquire timeout.
        package static let poolTimeout = Code("poolTimeout")
        /// The connection or pool was closed.
        package static let closed = Code("closed")
        /// The configuration (URL or keyword string) is invalid.
        package static let invalidConfiguration = Code("invalidConfiguration")
        /// A statement of a pipeline was skipped because an earlier one failed.
        package static let pipelineAborted = Code("pipelineAborted")
        /// The operation was cancelled (task cancellation).
        package static let cancelled = Code("cancelled")
    }

    package var code: Code
    /// SQLSTATE reported by the server, e.g. "23505"; nil for client-side errors.
    package var sqlState: String?
    /// Primary human-readable message.
    package var message: String
    package var detail: String?
    package var hint: String?
    /// Constraint named by the server, if any (e.g. for 23505).
    package var constraint: String?
    /// The SQL of the failing statement (never its parameter values).
    package var query: String?

    package init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil, query: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.query = query
    }

    /// True for failures after which the session is gone: SQLSTATE class 08
    /// (connection exception) and 57P01..57P03 (shutdown / cannot connect now).
    package static func isConnectionSQLState(_ state: String?) -> Bool {
        guard let state else { return false }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    package var description: String {
        var text = "PostgreSQL \(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        if let constraint { text += "; constraint: \(constraint)" }
        if let query {
            let shown = query.count > 300 ? String(query.prefix(300)) + "…" : query
            text += "; query: \(shown)"
        }
        return text
    }
}
