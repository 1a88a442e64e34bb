/// Reads librdkafka's C strings and fixed error buffers.
enum CString {
    /// Creates a Swift string from an optional C string, empty when NULL.
    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer)
    }

    /// Calls `body` with a zeroed 512-byte buffer for librdkafka's `errstr` arguments, returning the body's result and the text.
    static func withErrorBuffer<R>(_ body: (UnsafeMutablePointer<CChar>, Int) -> R) -> (R, String) {
        var buffer = [CChar](repeating: 0, count: 512)
        let result = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (result, text)
    }
}
