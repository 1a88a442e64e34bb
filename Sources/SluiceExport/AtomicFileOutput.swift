import CSluiceFileIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under `<path>.tmp` and moved to `path` only by `commit()`
/// (after fsync), so a crash never leaves a partial file under the final
/// name. Writes go straight to the descriptor; callers buffer.
///
/// Every `writebackBytes` written, the kernel is asked to start writing them
/// to disk (`sync_file_range`, asynchronous), so the disk works while the file
/// is being produced and the closing fsync does not wait for the whole file:
/// for a 400 MiB snapshot CSV that fsync took about a second otherwise.
package final class AtomicFileOutput {
    /// The final path.
    package let path: String
    /// `<path>.tmp`, where the bytes go until `commit()`.
    package let temporaryPath: String
    private var descriptor: Int32
    /// Bytes written so far.
    package private(set) var offset: Int64 = 0
    /// Where the range not yet handed to writeback starts.
    private var writebackStart: Int64 = 0
    /// Start writeback once this many bytes are waiting. 8 MiB.
    static let writebackBytes: Int64 = 8 << 20

    /// Creates (truncating) `<path>.tmp`.
    /// - Throws: `ExportError` `.io` when the file cannot be created.
    package init(path: String) throws(ExportError) {
        self.path = path
        self.temporaryPath = path + ".tmp"
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ExportError(
                code: .io, message: "cannot create temporary file: \(Self.errnoText())", path: temporaryPath)
        }
        descriptor = fd
    }

    deinit {
        if descriptor >= 0 {
            _ = close(descriptor)
            _ = unlink(temporaryPath)
        }
    }

    /// False once committed or discarded.
    package var isOpen: Bool { descriptor >= 0 }

    /// Writes all of `bytes`.
    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ExportError) {
        guard descriptor >= 0 else {
            throw ExportError(code: .closed, message: "file is already closed", path: temporaryPath)
        }
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(descriptor, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw ExportError(code: .io, message: "write failed: \(Self.errnoText())", path: temporaryPath)
            }
            pointer += written
            remaining -= written
            offset += Int64(written)
        }
        if offset - writebackStart >= Self.writebackBytes {
            // Best effort: a failure only means the closing fsync does more of the work.
            _ = sluice_start_writeback(descriptor, writebackStart, offset - writebackStart)
            writebackStart = offset
        }
    }

    /// Writes all of `array`.
    package func writeAll(_ array: [UInt8]) throws(ExportError) {
        let result = array.withUnsafeBytes { (bytes) -> Result<Void, ExportError> in
            do throws(ExportError) {
                try writeAll(bytes)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Flushes the file to disk, renames it to `path` and syncs the directory.
    package func commit() throws(ExportError) {
        guard descriptor >= 0 else {
            throw ExportError(code: .closed, message: "file is already closed", path: temporaryPath)
        }
        let fd = descriptor
        descriptor = -1
        if fsync(fd) != 0 {
            let text = Self.errnoText()
            _ = close(fd)
            _ = unlink(temporaryPath)
            throw ExportError(code: .io, message: "fsync failed: \(text)", path: temporaryPath)
        }
        if close(fd) != 0 {
            let text = Self.errnoText()
            _ = unlink(temporaryPath)
            throw ExportError(code: .io, message: "close failed: \(text)", path: temporaryPath)
        }
        if rename(temporaryPath, path) != 0 {
            let text = Self.errnoText()
            _ = unlink(temporaryPath)
            throw ExportError(code: .io, message: "rename to final name failed: \(text)", path: path)
        }
        syncDirectory()
    }

    /// Closes and deletes the temporary file; the final path is untouched.
    package func discard() {
        guard descriptor >= 0 else { return }
        _ = close(descriptor)
        descriptor = -1
        _ = unlink(temporaryPath)
    }

    private func syncDirectory() {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)  // best effort: the data itself is already synced
            _ = close(fd)
        }
    }

    private static func errnoText() -> String {
        let code = errno
        return String(cString: strerror(code)) + " (errno \(code))"
    }
}
