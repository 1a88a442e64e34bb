/// `http:` — the admin server (`/metrics`, `/healthz`, `/readyz`, model and snapshot endpoints).
package struct HTTPConfig: Hashable, Sendable {
    /// `address`: `host:port` to listen on (port 0: a free port, reported in the log).
    package var address: String = "127.0.0.1:8080"
    /// `token`: bearer token for mutating endpoints; when nil they refuse every request. A secret.
    package var token: ConfigSecret?
    /// `token_file`: file the token was read from, when given that way.
    package var tokenFile: String?

    /// All defaults.
    package init() {}

    static let tokenParser = ValueParser<ConfigSecret>(expected: "a non-empty token") { text in
        text.isEmpty || text.contains(where: \.isWhitespace)
            ? .failure(ValueIssue("the token (not shown: it is a secret) is empty or contains whitespace; expected a non-empty token without spaces"))
            : .success(ConfigSecret(text))
    }

    static func decode(_ m: MappingReader) -> HTTPConfig {
        var c = HTTPConfig()
        c.address = m.value("address", default: c.address, .listenAddress)
        // SLUICE_HTTP_TOKEN_FILE is the variable of `token_file`, so `token` has no separate _FILE variant.
        let token = m.read("token", tokenParser, secret: true, fileVariant: false)
        c.tokenFile = m.optional("token_file", .nonEmptyString)
        c.token = token.value
        if let file = c.tokenFile {
            let tokenFilePath = m.path.key("token_file")
            let variable = tokenFilePath.environmentName.flatMap { m.decoder.environment[$0] == nil ? nil : $0 }
            let node = m.entry("token_file")
            if token.isSet {
                m.decoder.report(.invalidValue, at: tokenFilePath, variable: variable, node: node,
                                 "both http.token and http.token_file are set; set only one")
            } else {
                switch m.decoder.readSecretFile(file) {
                case .success(let text):
                    switch tokenParser.parse(text) {
                    case .success(let secret): c.token = secret
                    case .failure(let issue):
                        m.decoder.report(.invalidValue, at: tokenFilePath, variable: variable, node: node, "file '\(file)': \(issue.message)")
                    }
                case .failure(let issue):
                    m.decoder.report(.unreadableFile, at: tokenFilePath, variable: variable, node: node, issue.message)
                }
            }
        }
        return c
    }
}
