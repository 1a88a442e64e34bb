#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with a NULL-terminated array of C strings (copies freed afterwards).
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    var storage: [UnsafePointer<CChar>?] = strings.map { strdup($0).map { UnsafePointer($0) } }
    defer { for pointer in storage { free(UnsafeMutablePointer(mutating: pointer)) } }
    storage.append(nil)
    return storage.withUnsafeBufferPointer { body($0.baseAddress) }
}
