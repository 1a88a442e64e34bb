/// Number text appended straight to a byte buffer, without building a `String` per number.
///
/// Doubles are written exactly as `Double.description` writes them (shortest round-trip, `1.0`, `1e-05`): the
/// standard library's `write(to:)` formats into a stack buffer and hands the ASCII bytes to the stream, where
/// `description` would allocate a string for anything longer than 15 bytes. Integers are written as decimal digits.
package enum JSONNumberText {
    private struct Sink: TextOutputStream {
        var bytes: [UInt8]
        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    /// Appends a finite `value` as `value.description` would read. Non-finite values are the caller's to map (JSON has
    /// no NaN or infinity; the writers use `null`): this would write `nan(0x…)` or `inf`.
    package static func append(_ value: Double, to bytes: inout [UInt8]) {
        var sink = Sink(bytes: [])
        swap(&sink.bytes, &bytes)
        value.write(to: &sink)
        swap(&sink.bytes, &bytes)
    }

    /// Appends `value` in decimal, with a leading `-` when negative.
    package static func append(_ value: Int64, to bytes: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // 20 digits hold UInt64.max.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }
}
