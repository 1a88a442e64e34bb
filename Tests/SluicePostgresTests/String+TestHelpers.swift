import Foundation

extension String {
    /// Replaces `dbname=...` in a keyword string.
    func replacingDBName(with name: String) -> String {
        split(separator: " ").map { $0.hasPrefix("dbname=") ? "dbname=\(name)" : String($0) }
            .joined(separator: " ").replacingOccurrences(of: "password=*****", with: "")
    }
}
