/// A minimal, fast JSON builder appending UTF-8 to a reusable byte array, for the worker's
/// prediction and alert messages.
///
/// Commas are inserted automatically: call `key(_:)` before each member value inside objects and
/// nothing before array elements. The writer does not check that calls are balanced. Strings are
/// escaped per RFC 8259 (`"`, `\`, and every control character below U+0020; `\b \f \n \r \t` in
/// their short forms, the rest as `\u00XX`); other characters, including `/` and non-ASCII, are
/// written as UTF-8. Doubles are written shortest-round-trip (Swift's `description`); NaN and
/// ±infinity, which JSON cannot express, become `null`.
package struct JSONOutputWriter: Sendable {
    /// The bytes written so far.
    package var bytes: [UInt8]
    private var needsComma = false

    /// Creates a writer with an empty buffer of `capacity` bytes reserved.
    package init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer (keeping its capacity) to write the next message.
    package mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// The written bytes as a string.
    package var string: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Writes `{`.
    package mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Writes `}`.
    package mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `[`.
    package mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Writes `]`.
    package mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member name and `:`; the next call writes its value.
    package mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a string value.
    package mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// Writes a number, or `null` when it is not finite.
    package mutating func double(_ value: Double) {
        separate()
        if value.isFinite {
            JSONNumberText.append(value, to: &bytes)
        } else {
            appendRaw("null")
        }
        needsComma = true
    }

    /// Writes an integer.
    package mutating func int(_ value: Int64) {
        separate()
        JSONNumberText.append(value, to: &bytes)
        needsComma = true
    }

    /// Writes `true` or `false`.
    package mutating func bool(_ value: Bool) {
        separate()
        appendRaw(value ? "true" : "false")
        needsComma = true
    }

    /// Writes `null`.
    package mutating func null() {
        separate()
        appendRaw("null")
        needsComma = true
    }

    /// Writes a field value in its JSON form (`.null` as `null`).
    package mutating func value(_ value: FieldValue) {
        switch value {
        case .double(let d): double(d)
        case .int(let i): int(i)
        case .string(let s): string(s)
        case .bool(let b): bool(b)
        case .null: null()
        }
    }

    /// Writes an already encoded JSON value (an object or array built elsewhere) as the next value.
    package mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// Writes an epoch-milliseconds time as an RFC 3339 string (`"2026-01-02T03:04:05.678Z"`).
    package mutating func timestamp(millis: Int64) {
        string(RFC3339Timestamp.format(millis: millis))
    }

    private mutating func appendRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
