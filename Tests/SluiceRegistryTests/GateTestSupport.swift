import Foundation
import SluiceEvaluation
import SluicePostgres
import SluiceRegistry

/// Tests/SluiceRegistryTests/Fixtures/gate, written by scripts/fixtures/gen_gate_fixtures.py: a snapshot CSV in the
/// exporter's format, two models trained on its train rows, and scikit-learn's metrics of both.
enum GateFixtures {
    static let directory = "Tests/SluiceRegistryTests/Fixtures/gate"

    /// The snapshot CSV (240 rows, 60 of them holdout).
    static var csv: String {
        get throws { String(decoding: try Files.bytes("\(directory)/snapshot.csv"), as: UTF8.self) }
    }

    /// XGBoost on amount, merchants_7d and secs_since_last: the better model.
    static var xgbStrong: [UInt8] { get throws { try Files.bytes("\(directory)/xgb_strong.json") } }

    /// Logistic regression on amount alone: the weaker model.
    static var linearWeak: [UInt8] { get throws { try Files.bytes("\(directory)/linear_weak.json") } }

    /// scikit-learn's figures: `holdout` or `all` → model (`xgb_strong`, `linear_weak`) → metric → value.
    struct Expected: Decodable {
        var rows: Int
        var holdout_rows: Int
        var holdout: [String: [String: Double]]
        var all: [String: [String: Double]]
    }

    static var expected: Expected {
        get throws { try JSONDecoder().decode(Expected.self, from: Data(try Files.bytes("\(directory)/expected.json"))) }
    }

    /// The snapshot CSV without its split column (an export made with no holdout).
    static func csvWithoutSplit() throws -> String {
        let records = try CSVTable(name: "snapshot.csv", text: try csv)
        guard let split = records.column("split") else { return try csv }
        let keep = records.header.indices.filter { $0 != split }
        return ([records.header] + records.rows).map { row in keep.map { row[$0] }.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

/// A temporary snapshots directory laid out as the exporter does (`<root>/<snapshot_id>/data.csv`), whose rows go
/// into a scratch schema's `snapshots` table.
struct SnapshotDirectory {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-gate-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Writes `csv` as `<root>/<id>/data.csv` and inserts the snapshot's row.
    /// - Parameters:
    ///   - absolute: Store `csv_file` as an absolute path (with `directory` the snapshot's own directory); otherwise
    ///     `directory` is the root and `csv_file` is `<id>/data.csv`, relative to it.
    ///   - createdAt: An RFC 3339 time for `created_at`.
    @discardableResult
    func add(_ scratch: Scratch, id: String, model: String?, createdAt: String, csv: String, absolute: Bool = false) async throws -> URL {
        let directory = root.appendingPathComponent(id)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("data.csv")
        try Data(csv.utf8).write(to: file)
        let table = try CSVTable(name: file.path, text: csv)
        let holdout = table.column("split").map { split in table.rows.filter { $0[split] == "holdout" }.count } ?? 0
        let (base, relative) = absolute ? (directory.path, file.path) : (root.path, "\(id)/data.csv")
        try await scratch.connection.execute("""
            INSERT INTO \(scratch.schema).snapshots (snapshot_id, created_at, reason, model_name, model_version, rows, holdout_rows,
                directory, parquet_file, csv_file, manifest_file, parquet_sha256, csv_sha256, manifest)
            VALUES ($1, $2::timestamptz, 'manual', $3, 1, $4::bigint, $5::bigint, $6, $7, $8, $9, '', '', '{}'::json)
            """, [id, createdAt, model, Int64(table.rows.count), Int64(holdout), base,
                  absolute ? directory.appendingPathComponent("data.parquet").path : "\(id)/data.parquet", relative,
                  absolute ? directory.appendingPathComponent("manifest.json").path : "\(id)/manifest.json"])
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}
