/// A PostgreSQL type OID with names for the types this layer knows.
package struct PostgresDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    package var rawValue: UInt32
    package init(rawValue: UInt32) { self.rawValue = rawValue }
    package init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Lets the server infer the type (used for untyped NULL parameters).
    package static let unspecified = PostgresDataType(0)
    package static let bool = PostgresDataType(16)
    package static let bytea = PostgresDataType(17)
    package static let char = PostgresDataType(18)
    package static let name = PostgresDataType(19)
    package static let int8 = PostgresDataType(20)
    package static let int2 = PostgresDataType(21)
    package static let int4 = PostgresDataType(23)
    package static let text = PostgresDataType(25)
    package static let oid = PostgresDataType(26)
    package static let json = PostgresDataType(114)
    package static let float4 = PostgresDataType(700)
    package static let float8 = PostgresDataType(701)
    package static let unknown = PostgresDataType(705)
    package static let bpchar = PostgresDataType(1042)
    package static let varchar = PostgresDataType(1043)
    package static let timestamp = PostgresDataType(1114)
    package static let timestamptz = PostgresDataType(1184)
    package static let numeric = PostgresDataType(1700)
    package static let uuid = PostgresDataType(2950)
    package static let jsonb = PostgresDataType(3802)
    package static let boolArray = PostgresDataType(1000)
    package static let byteaArray = PostgresDataType(1001)
    package static let int2Array = PostgresDataType(1005)
    package static let int4Array = PostgresDataType(1007)
    package static let textArray = PostgresDataType(1009)
    package static let varcharArray = PostgresDataType(1015)
    package static let int8Array = PostgresDataType(1016)
    package static let float4Array = PostgresDataType(1021)
    package static let float8Array = PostgresDataType(1022)
    package static let timestampArray = PostgresDataType(1115)
    package static let timestamptzArray = PostgresDataType(1185)
    package static let jsonbArray = PostgresDataType(3807)

    /// The type's SQL name when known, else "oid N".
    package var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .bool: "bool"
        case .bytea: "bytea"
        case .char: "char"
        case .name: "name"
        case .int8: "int8"
        case .int2: "int2"
        case .int4: "int4"
        case .text: "text"
        case .oid: "oid"
        case .json: "json"
        case .float4: "float4"
        case .float8: "float8"
        case .unknown: "unknown"
        case .bpchar: "bpchar"
        case .varchar: "varchar"
        case .timestamp: "timestamp"
        case .timestamptz: "timestamptz"
        case .numeric: "numeric"
        case .uuid: "uuid"
        case .jsonb: "jsonb"
        case .boolArray: "bool[]"
        case .byteaArray: "bytea[]"
        case .int2Array: "int2[]"
        case .int4Array: "int4[]"
        case .textArray: "text[]"
        case .varcharArray: "varchar[]"
        case .int8Array: "int8[]"
        case .float4Array: "float4[]"
        case .float8Array: "float8[]"
        case .timestampArray: "timestamp[]"
        case .timestamptzArray: "timestamptz[]"
        case .jsonbArray: "jsonb[]"
        default: "oid \(rawValue)"
        }
    }

    package var description: String {
        self == .unspecified || name.hasPrefix("oid ") ? name : "\(name) (oid \(rawValue))"
    }
}
