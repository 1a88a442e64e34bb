/// A `TextOutputStream` that appends to a `ByteBuffer` in place, used for
/// the standard library's shortest round-trip float formatting
/// (`Double.write(to:)`) so formatting a number never allocates a `String`.
///
/// The standard library hands float digits to `_writeASCII`, a public
/// requirement of `TextOutputStream` whose default builds a `String`;
/// implementing it here receives the bytes directly.
struct ByteBufferTextSink: TextOutputStream {
    let target: UnsafeMutablePointer<ByteBuffer>

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        target.pointee.append(UnsafeRawBufferPointer(buffer))
    }

    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { target.pointee.append(UnsafeRawBufferPointer($0)) }
    }
}
