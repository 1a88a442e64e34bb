import Foundation
import Testing

/// Runs the Python reference readers (pyarrow, duckdb, the csv module) as subprocesses.
///
/// The interpreter is `$SLUICE_PYTHON`, else `.venv/bin/python` under the
/// package root (install with
/// `python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-test.txt (scripts/test-venv does it)`).
/// When it or pyarrow is missing the tests that need it are skipped, except
/// with `CI=true`, where they run and fail.
enum PythonReference {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var pythonPath: String {
        if let configured = ProcessInfo.processInfo.environment["SLUICE_PYTHON"], !configured.isEmpty {
            return configured
        }
        return packageRoot.appendingPathComponent(".venv/bin/python").path
    }

    static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    }

    /// True when python can import pyarrow.
    static let hasPyarrow: Bool = {
        guard FileManager.default.isExecutableFile(atPath: pythonPath) else { return false }
        return (try? run(["-c", "import pyarrow, pyarrow.parquet"]))?.status == 0
    }()

    /// Whether the pyarrow tests run: always under CI (so a missing python fails), else only when available.
    static var shouldRun: Bool { isCI || hasPyarrow }

    static let skipMessage: Comment =
        "python with pyarrow not found (set SLUICE_PYTHON or create .venv from scripts/requirements-test.txt (scripts/test-venv does it))"

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pythonPath)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        // stderr goes to a file so that neither stream can fill a pipe and block the child.
        let errorURL = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-py-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorURL) }
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        defer { try? errorHandle.close() }
        process.standardError = errorHandle
        try process.run()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorText = (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
        return Output(status: process.terminationStatus, stdout: outputData, stderr: errorText)
    }

    /// Runs a script from Fixtures/ and returns its stdout, failing the test on a non-zero exit.
    static func runScript(_ script: String, _ arguments: [String]) throws -> Data {
        let scriptPath = fixtures.appendingPathComponent(script).path
        let output = try run([scriptPath] + arguments)
        try #require(output.status == 0, "\(script) failed (exit \(output.status)): \(output.stderr)")
        return output.stdout
    }

    /// Fails under CI when pyarrow is missing (instead of skipping).
    static func requirePyarrow() throws {
        try #require(hasPyarrow, "\(skipMessage); python: \(pythonPath)")
    }
}

/// A unique temporary directory removed at the end of the test.
struct TemporaryDirectory: ~Copyable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
