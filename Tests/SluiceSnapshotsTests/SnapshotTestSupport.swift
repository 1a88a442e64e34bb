import Foundation
import Logging
import SluiceFeatureStore
import SluicePostgres
import SluiceSnapshots
import Testing

/// Where the snapshot tests find their services: PostgreSQL from `SLUICE_TEST_POSTGRES_URL` (required in CI,
/// as in the other suites) and the pyarrow reader from `SLUICE_PYTHON`.
enum SnapshotTestEnvironment {
    static let postgresURL: String? = {
        let value = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"]
        return (value?.isEmpty ?? true) ? nil : value
    }()

    static let isCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// Run the database suites when a URL is given, and always in CI (so a missing URL fails there).
    static let postgresEnabled = postgresURL != nil || isCI

    static let postgresDisabledReason: Comment =
        "SLUICE_TEST_POSTGRES_URL is not set: run `scripts/dev-postgres start` and export SLUICE_TEST_POSTGRES_URL=$(scripts/dev-postgres url)"

    /// The Python with pyarrow that reads the snapshots back; nil skips the read-back tests.
    static let python: String? = {
        let value = ProcessInfo.processInfo.environment["SLUICE_PYTHON"]
        return (value?.isEmpty ?? true) ? nil : value
    }()

    static let pythonDisabledReason: Comment =
        "SLUICE_PYTHON is not set: point it at a python with pyarrow (e.g. SLUICE_PYTHON=.venv/bin/python after scripts/test-venv) to read snapshots back"

    static let logger: Logger = {
        var logger = Logger(label: "sluice.snapshots.tests")
        logger.logLevel = .warning
        return logger
    }()
}

/// A labelled row to insert; everything but the prediction id, entity and features has a default.
struct LabelledRow {
    var predictionID: String
    var eventID: String? = nil
    var entity: String
    var eventTimeMillis: Int64
    var modelName: String? = "fraud"
    var modelVersion: Int32? = 1
    var score: Double? = 0.5
    var features: String
    var label: Double = 1
    var labelTimeMillis: Int64 = 1_767_312_000_000  // 2026-01-02T00:00:00Z
}

/// A scratch feature-store schema (all migrations applied) and output directory, removed by `drop()`.
struct ScratchStore {
    let schema = "snap_\(UUID().uuidString.prefix(8).lowercased())"
    let connection: PostgresConnection
    let directory: String

    init() async throws {
        guard let url = SnapshotTestEnvironment.postgresURL else {
            throw SnapshotError(.invalidRequest, "CI is set but SLUICE_TEST_POSTGRES_URL is not: start PostgreSQL (scripts/dev-postgres start) and export it")
        }
        connection = try await PostgresConnection.connect(url: url, logger: SnapshotTestEnvironment.logger)
        try await FeatureStoreMigrations.migrate(connection, schema: schema)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-snapshots-\(UUID().uuidString)").path
    }

    /// Runs `body` with a fresh store and drops it afterwards, also when `body` throws.
    static func with<T>(_ body: (ScratchStore) async throws -> T) async throws -> T {
        let store = try await ScratchStore()
        do {
            let value = try await body(store)
            await store.drop()
            return value
        } catch {
            await store.drop()
            throw error
        }
    }

    func exporter(nowMillis: @escaping @Sendable () -> Int64 = SnapshotExporter.systemMillis) throws -> SnapshotExporter {
        try SnapshotExporter(connection: connection, schema: schema, logger: SnapshotTestEnvironment.logger, nowMillis: nowMillis)
    }

    /// A request writing into this store's directory.
    func request(holdout: Double = 0.2, rowGroupRows: Int = 65_536) -> SnapshotRequest {
        SnapshotRequest(directory: directory, holdoutFraction: holdout, rowGroupRows: rowGroupRows)
    }

    /// Inserts rows into `labelled` with binary COPY (label topic `labels`, partition 0, offsets 0…).
    func insert(_ rows: [LabelledRow]) async throws {
        try await connection.copyInBinary("""
            COPY \(schema).labelled (prediction_id, event_id, entity, event_time, model_name, model_version, score, features,
                                     label, label_time, label_topic, label_partition, label_offset)
            FROM STDIN (FORMAT binary)
            """) { encoder in
            for (offset, row) in rows.enumerated() {
                try encoder.beginRow(fieldCount: 13)
                try encoder.write(row.predictionID)
                try encoder.write(row.eventID)
                try encoder.write(row.entity)
                try encoder.write(PostgresTimestamp(millisecondsSinceUnixEpoch: row.eventTimeMillis))
                try encoder.write(row.modelName)
                try encoder.write(row.modelVersion)
                try encoder.write(row.score)
                try encoder.write(row.features)  // json's binary form is its UTF-8 text
                encoder.write(row.label)
                try encoder.write(PostgresTimestamp(millisecondsSinceUnixEpoch: row.labelTimeMillis))
                try encoder.write("labels")
                encoder.write(Int32(0))
                encoder.write(Int64(offset))
            }
        }
    }

    /// The names of the entries of the output directory (none when it does not exist).
    func directoryEntries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    func drop() async {
        _ = try? await connection.execute("DROP SCHEMA \(schema) CASCADE")
        await connection.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// What `Fixtures/read_snapshot.py` printed about a snapshot, read with pyarrow.
struct PyarrowSnapshot: Decodable {
    struct Field: Decodable, Equatable {
        var name: String
        var type: String
        var nullable: Bool
    }

    struct FileInfo: Decodable {
        var bytes: Int64
        var sha256: String
    }

    /// A value as the script tags it.
    enum Cell: Decodable, Equatable, CustomStringConvertible {
        case s(String)
        case i(Int64)
        case d(Double)
        case b(Bool)
        case t(Int64)

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            switch try container.decode(String.self) {
            case "s": self = .s(try container.decode(String.self))
            case "i": self = .i(try container.decode(Int64.self))
            case "d": self = .d(try container.decode(Double.self))
            case "b": self = .b(try container.decode(Bool.self))
            case "t": self = .t(try container.decode(Int64.self))
            case let tag: throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown tag \(tag)")
            }
        }

        var description: String {
            switch self {
            case .s(let v): "s:\(v)"
            case .i(let v): "i:\(v)"
            case .d(let v): "d:\(v)"
            case .b(let v): "b:\(v)"
            case .t(let v): "t:\(v)"
            }
        }
    }

    var schema: [Field]
    var row_groups: Int
    var num_rows: Int
    var metadata: [String: String]
    var files: [String: FileInfo]
    var split_mismatches: Int?
    var entities_on_both_sides: Int?
    var rows: [[Cell?]]?

    /// Reads `directory` with pyarrow.
    static func read(_ directory: String, rows: Bool = false) throws -> PyarrowSnapshot {
        let python = try #require(SnapshotTestEnvironment.python)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/read_snapshot.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, directory] + (rows ? ["--rows"] : [])
        let output = Pipe()
        process.standardOutput = output
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-snapshot-py-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        let errorHandle = try FileHandle(forWritingTo: errors)
        defer { try? errorHandle.close() }
        process.standardError = errorHandle
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        try #require(process.terminationStatus == 0, "read_snapshot.py failed (exit \(process.terminationStatus)): \(stderr)")
        return try JSONDecoder().decode(PyarrowSnapshot.self, from: data)
    }

    /// The column named `name`, as cells.
    func column(_ name: String) throws -> [Cell?] {
        let index = try #require(schema.firstIndex { $0.name == name }, "no column \(name) in \(schema.map(\.name))")
        return try #require(rows).map { $0[index] }
    }
}

/// Expects `body` to throw a ``SnapshotError`` with `code`, and returns it.
@discardableResult
func expectSnapshotError(_ code: SnapshotError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () async throws -> Void) async -> SnapshotError? {
    do {
        try await body()
        Issue.record("expected SnapshotError \(code), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as SnapshotError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected SnapshotError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// 2026-01-01T00:00:00Z in epoch milliseconds, the time the test rows start at.
let january1: Int64 = 1_767_225_600_000
