/// Parameter values for `$1, $2, ...`, encoded eagerly into one flat buffer in
/// the binary format.
///
/// ```swift
/// try await conn.query("SELECT $1::int8 + $2", [Int64(1), Int64(2)])
/// var binds = PostgresBindings()
/// try binds.append(ids)          // [Int64] → int8[]
/// binds.appendNull(.text)
/// ```
/// `nil` in an array literal is an untyped NULL (the server infers its type).
package struct PostgresBindings: Sendable, ExpressibleByArrayLiteral {
    var buffer = PostgresEncodingBuffer()
    package private(set) var types: [PostgresDataType] = []
    var offsets: [Int] = []
    var lengths: [Int32] = []
    /// First failure of an array-literal element; thrown when the statement runs.
    var deferredError: PostgresError?

    package init() {}

    /// Empty bindings whose buffer holds `capacity` bytes before it grows.
    package init(capacity: Int) {
        buffer = PostgresEncodingBuffer(capacity: capacity)
    }

    package init(arrayLiteral elements: (any PostgresEncodable)?...) {
        for element in elements {
            do {
                if let element { try append(element) } else { appendNull() }
            } catch {
                if deferredError == nil { deferredError = Self.wrap(error, index: types.count) }
                appendNull()
            }
        }
    }

    /// Number of parameters.
    package var count: Int { types.count }

    /// Appends a value, typed by its `postgresType`.
    /// - Throws: `PostgresError` (`.encoding`) when the value cannot be encoded.
    package mutating func append<T: PostgresEncodable>(_ value: T) throws {
        try appendParameter(T.postgresType, described: " of \(T.self)") { try value.encode(into: &$0) }
    }

    /// Appends one parameter of `type` that `write` encodes into the buffer; on failure nothing is added.
    private mutating func appendParameter(_ type: PostgresDataType, described what: @autoclosure () -> String,
                                          _ write: (inout PostgresEncodingBuffer) throws -> Void) throws {
        let start = buffer.count
        do {
            try write(&buffer)
        } catch {
            buffer.truncate(to: start)
            throw Self.wrap(error, index: types.count)
        }
        let length = buffer.count - start
        guard length <= Int(Int32.max) else {
            buffer.truncate(to: start)
            throw PostgresError(code: .encoding, message: "parameter $\(types.count + 1)\(what()) is \(length) bytes; at most \(Int32.max) fit")
        }
        types.append(type)
        offsets.append(start)
        lengths.append(Int32(length))
    }

    /// Appends a one-dimensional array of `count` non-NULL elements of `elementType` as one parameter of
    /// `arrayType`, writing each element's binary encoding straight into the parameter buffer: for large batched
    /// statements (`unnest($1::text[], …)`) built from values that are bytes already, with no array of Swift
    /// values in between. `writeElement(i, &buffer)` writes element `i` without its length prefix.
    /// - Throws: `PostgresError` (`.encoding`) when an element cannot be encoded or is too long.
    package mutating func appendArray(of elementType: PostgresDataType, as arrayType: PostgresDataType, count: Int,
                                      _ writeElement: (Int, inout PostgresEncodingBuffer) throws -> Void) throws {
        try appendParameter(arrayType, described: " (\(count) elements)") { buffer in
            try buffer.writeArrayHeader(elementType: elementType, count: count)
            for index in 0..<count {
                try buffer.writeLengthPrefixed(described: "element \(index + 1)") { try writeElement(index, &$0) }
            }
        }
    }

    /// Appends a value or a NULL typed as `T.postgresType`.
    package mutating func append<T: PostgresEncodable>(_ value: T?) throws {
        if let value { try append(value) } else { appendNull(T.postgresType) }
    }

    /// Appends SQL NULL of the given type (`.unspecified` lets the server infer it).
    package mutating func appendNull(_ type: PostgresDataType = .unspecified) {
        types.append(type)
        offsets.append(buffer.count)
        lengths.append(-1)
    }

    private static func wrap(_ error: any Error, index: Int) -> PostgresError {
        if var error = error as? PostgresError {
            error.message = "parameter $\(index + 1): " + error.message
            return error
        }
        return PostgresError(code: .encoding, message: "parameter $\(index + 1): \(error)")
    }

    /// Calls `body` with libpq's parallel arrays (types, values, lengths, formats).
    func withLibPQArrays<R>(
        _ body: (
            _ types: UnsafePointer<UInt32>?, _ values: UnsafePointer<UnsafePointer<CChar>?>?,
            _ lengths: UnsafePointer<Int32>?, _ formats: UnsafePointer<Int32>?
        ) throws -> R
    ) throws -> R {
        if let deferredError { throw deferredError }
        let count = types.count
        if count == 0 { return try body(nil, nil, nil, nil) }
        let oids = types.map(\.rawValue)
        let formats = [Int32](repeating: 1, count: count)
        // libpq needs a non-NULL pointer for non-NULL values, even empty ones.
        let empty: StaticString = ""
        let emptyPointer = UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
        return try buffer.withUnsafeReadableBytes { storage in
            var values = [UnsafePointer<CChar>?](repeating: nil, count: count)
            for index in 0..<count where lengths[index] >= 0 {
                if lengths[index] == 0 {
                    values[index] = emptyPointer
                } else if let base = storage.baseAddress {
                    values[index] = (base + offsets[index]).assumingMemoryBound(to: CChar.self)
                }
            }
            return try values.withUnsafeBufferPointer { pointers in
                try body(oids, pointers.baseAddress, lengths, formats)
            }
        }
    }
}
