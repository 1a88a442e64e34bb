/// A key path for messages (`features[3].window`) together with the environment variable that overrides it.
struct ConfigPath: CustomStringConvertible {
    /// Dotted text shown in messages; empty for the document root.
    private(set) var text: String
    /// `SLUICE_...` for paths made of plain keys only; nil inside lists and user-named map entries.
    private(set) var environmentName: String?

    static let root = ConfigPath(text: "", environmentName: "SLUICE")

    var description: String { text }

    /// The path of `key` inside this mapping.
    func key(_ key: String) -> ConfigPath {
        ConfigPath(text: text.isEmpty ? key : text + "." + key,
                   environmentName: environmentName.map { $0 + "_" + key.uppercased() })
    }

    /// The path of item `index` of this list.
    func index(_ index: Int) -> ConfigPath {
        ConfigPath(text: text + "[\(index)]", environmentName: nil)
    }

    /// The path of a user-named entry of a map (`source.fields.amount`, `kafka.properties["sasl.password"]`).
    func entry(_ name: String) -> ConfigPath {
        let simple = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" }
        return ConfigPath(text: simple ? text + "." + name : text + "[\"\(name)\"]", environmentName: nil)
    }

    /// How an error from an environment variable names its place: `SLUICE_X (x)`.
    static func environmentLabel(_ variable: String, _ path: ConfigPath) -> String {
        "\(variable) (\(path.text))"
    }
}
