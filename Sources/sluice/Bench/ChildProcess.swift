import ArgumentParser
import Foundation
import Synchronization

/// Another `sluice` process a benchmark runs (the load producer, the latency probe, the dev cluster), so that its
/// CPU and memory are its own and not the measured worker's. Its standard output is collected line by line;
/// its standard error passes through to ours.
final class ChildProcess: Sendable {
    /// The path of the running `sluice` executable.
    static func sluiceExecutable() throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            let argument = CommandLine.arguments[0]
            if argument.contains("/") { return URL(fileURLWithPath: argument).standardizedFileURL.path }
            if let found = Measure.which(argument) { return found }
            throw ValidationError("cannot find the sluice executable to start a child process: \(error)")
        }
    }

    let name: String
    private let process: Process
    /// The process's standard input.
    private let input: FileHandle
    private let output = Mutex<(lines: [String], partial: [UInt8], ended: Bool)>(([], [], false))

    /// Starts `sluice <arguments>`.
    init(name: String, arguments: [String]) throws {
        self.name = name
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.sluiceExecutable())
        process.arguments = arguments
        let pipe = Pipe()
        let inputPipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = inputPipe
        self.process = process
        self.input = inputPipe.fileHandleForWriting
        try process.run()
        let reading = pipe.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let data = reading.availableData
                let ended = data.isEmpty
                output.withLock { state in
                    state.partial += data
                    while let newline = state.partial.firstIndex(of: 10) {
                        state.lines.append(String(decoding: state.partial[..<newline], as: UTF8.self))
                        state.partial.removeSubrange(...newline)
                    }
                    if ended {
                        if !state.partial.isEmpty { state.lines.append(String(decoding: state.partial, as: UTF8.self)) }
                        state.partial = []
                        state.ended = true
                    }
                }
                if ended { return }
            }
        }
        thread.name = "sluice-bench-child-\(name)"
        thread.start()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// The lines the process has written to standard output so far.
    var lines: [String] { output.withLock { $0.lines } }

    /// Waits until the process writes a line equal to `line`.
    /// - Throws: when it exits first or `timeout` passes.
    func waitForLine(_ line: String, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (seen, ended) = output.withLock { ($0.lines.contains(line), $0.ended) }
            if seen { return }
            if ended || !process.isRunning {
                throw ValidationError("the \(name) process (pid \(pid)) exited before it was ready")
            }
            if ContinuousClock.now >= deadline {
                throw ValidationError("the \(name) process (pid \(pid)) did not say '\(line)' within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for the process to exit and for its standard output to end; returns the exit status.
    /// - Throws: when `timeout` passes first (the process keeps running).
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(600)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning || !output.withLock({ $0.ended }) {
            if ContinuousClock.now >= deadline {
                throw ValidationError("the \(name) process (pid \(pid)) is still running after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Writes a line to the process's standard input.
    func send(_ line: String) throws {
        try input.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Asks the process to stop (SIGTERM) if it still runs.
    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// The last line of standard output decoded as JSON (the hidden bench subcommands end with their summary).
    /// - Throws: when the process did not exit with status 0 or wrote no such line.
    func summary<T: Decodable>(_ type: T.Type) throws -> T {
        guard !process.isRunning, process.terminationStatus == 0 else {
            throw ValidationError("the \(name) process failed (exit status \(process.isRunning ? -1 : process.terminationStatus))")
        }
        guard let last = lines.last(where: { $0.hasPrefix("{") }) else {
            throw ValidationError("the \(name) process wrote no summary")
        }
        return try JSONDecoder().decode(T.self, from: Data(last.utf8))
    }
}
