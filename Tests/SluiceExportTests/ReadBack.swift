import Foundation

/// The JSON printed by Fixtures/read_parquet.py.
struct ParquetReadBack: Decodable {
    struct Stat: Decodable {
        struct Bound: Decodable {
            var int: Int64?
            var str: String?
        }
        var compression: String
        var null_count: Int64?
        var has_min_max: Bool
        var encodings: [String]
        var num_values: Int64
        var data_page_offset: Int64
        var total_compressed_size: Int64
        var total_uncompressed_size: Int64
        var min: Bound?
        var max: Bound?
    }

    struct Column: Decodable {
        var name: String
        var type: String
        var nullable: Bool
        var physical: String
        var logical: String
        var converted: String
        var ints: [Int64?]?
        var strings: [String?]?
        var stats: [Stat]
    }

    struct DuckColumn: Decodable {
        var name: String
        var ints: [Int64?]?
        var strings: [String?]?
    }

    struct Duck: Decodable {
        var types: [String]
        var columns: [DuckColumn]
    }

    var num_rows: Int64
    var row_groups: [Int64]
    var created_by: String
    var file_size: Int64
    var footer_length: Int64
    var metadata: [String: String]
    var columns: [Column]
    var duckdb: Duck?

    static func read(_ path: String) throws -> ParquetReadBack {
        let data = try PythonReference.runScript("read_parquet.py", [path])
        return try JSONDecoder().decode(ParquetReadBack.self, from: data)
    }
}

/// Deterministic pseudo-random numbers (SplitMix64) so failures reproduce.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}

/// Describes the first difference between two value lists, or nil when equal
/// (keeps failure messages short for columns of thousands of values).
func firstDifference<T: Equatable>(_ actual: [T]?, _ expected: [T]?) -> String? {
    guard let actual, let expected else {
        return actual == nil && expected == nil ? nil : "one side is missing"
    }
    if actual.count != expected.count { return "got \(actual.count) values, expected \(expected.count)" }
    for index in actual.indices where actual[index] != expected[index] {
        return "row \(index): got \(actual[index]), expected \(expected[index])"
    }
    return nil
}
