/// Checks `host:port` and `[ipv6]:port` addresses.
enum HostPort {
    /// Why `text` is not `host:port`, or nil when it is. `allowAnyPort` accepts port 0 (listen on a free port).
    static func problem(with text: String, allowAnyPort: Bool = false) -> String? {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return "missing ']'" }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return "missing ':port'" }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return "missing ':port'" }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return "write IPv6 hosts in brackets, e.g. [::1]:9092" }
        }
        if host.isEmpty { return "empty host" }
        if host.contains(where: { $0 == " " || $0 == "/" }) { return "host contains a space or '/'" }
        guard let number = Int(port), ((allowAnyPort ? 0 : 1)...65535).contains(number), port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return "port '\(port)' is not between \(allowAnyPort ? 0 : 1) and 65535"
        }
        return nil
    }
}
