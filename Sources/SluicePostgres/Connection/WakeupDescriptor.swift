import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A pipe used to wake a listener's `poll()`; both ends closed exactly once.
final class WakeupDescriptor: Sendable {
    private let descriptors: Mutex<(read: Int32, write: Int32)>

    init(read: Int32, write: Int32) { self.descriptors = Mutex((read, write)) }

    func signal() {
        descriptors.withLock { fds in
            guard fds.write >= 0 else { return }
            var byte: UInt8 = 1
            _ = Glibc.write(fds.write, &byte, 1)
        }
    }

    func close() {
        descriptors.withLock { fds in
            if fds.read >= 0 { _ = Glibc.close(fds.read) }
            if fds.write >= 0 { _ = Glibc.close(fds.write) }
            fds = (-1, -1)
        }
    }
}
