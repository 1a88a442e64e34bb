import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The directory operations of an export: a hidden staging directory that becomes `<snapshot_id>/` with one
/// `rename`, so readers never see a snapshot with some of its files.
enum SnapshotDirectory {
    /// `path` made absolute against the current directory, without `.` / `..` segments or a trailing slash.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Creates `path` and its missing parents.
    /// - Throws: ``SnapshotError`` `.io`.
    static func create(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SnapshotError(.io, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    /// Renames the staging directory to its final name (failing if that exists) and syncs the parent.
    /// - Throws: ``SnapshotError`` `.io`.
    static func publish(_ staging: String, as final: String, in parent: String) throws {
        sync(staging)
        if FileManager.default.fileExists(atPath: final) {
            throw SnapshotError(.io, "\(final) already exists; snapshot ids are unique, so something else wrote it")
        }
        guard rename(staging, final) == 0 else {
            throw SnapshotError(.io, "cannot rename \(staging) to \(final): \(errnoText())")
        }
        sync(parent)
    }

    /// Removes `path` and everything in it; errors are ignored (used to clean up after a failure).
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// fsync of a directory, so renames inside it survive a crash (best effort).
    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    static func errnoText() -> String {
        let code = errno
        return String(cString: strerror(code)) + " (errno \(code))"
    }
}
