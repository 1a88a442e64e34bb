/// Turning the value of a configured member into the decoded event's fields.
extension EventDecoder {
    /// The value of a configured member, still as byte ranges of the payload.
    enum MemberValue {
        case string(JSONEventScanner.StringToken)
        case number(ScannedJSONNumber)
        case bool(Bool)
        case null
        case object(start: Int)
        case array(start: Int)
    }

    /// Scans the value at `scanner.pos` (after the ':').
    @inline(__always)
    static func scanMemberValue(_ scanner: inout JSONEventScanner) throws(JSONScanFailure) -> MemberValue {
        switch scanner.peek() {
        case UInt8(ascii: "\""):
            return .string(try scanner.scanString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try scanner.scanNumber())
        case UInt8(ascii: "{"):
            let start = scanner.pos
            try scanner.skipObject(depth: 2)
            return .object(start: start)
        case UInt8(ascii: "["):
            let start = scanner.pos
            try scanner.skipArray(depth: 2)
            return .array(start: start)
        default: // including the end of input, which `scanLiteral` reports
            switch try scanner.scanLiteral() {
            case .true: return .bool(true)
            case .false: return .bool(false)
            case .null: return .null
            }
        }
    }

    /// Scans the value of a configured member and applies it, taking a shortcut for the common
    /// single-role, right-type cases (no `MemberValue` built) and the general path otherwise.
    ///
    /// `@inline(always)` (SE-0496), not `@inline(__always)`: the optimizer declines the latter for a
    /// function this size ("not profitable", cost 965), and the call then cost about 240 instructions
    /// per decoded event (callgrind) in register saves and reloads around the member loop.
    @inline(always)
    func scanConfiguredMember(
        _ slotIndex: Int,
        fastPath: FastPath,
        _ scanner: inout JSONEventScanner,
        progress: inout DecodeProgress,
        event: inout DecodedEvent
    ) throws(JSONScanFailure) {
        let b = scanner.peek()
        let isQuote = b == UInt8(ascii: "\"")
        let isNumber = b == UInt8(ascii: "-") || (b &- UInt8(ascii: "0")) <= 9
        switch fastPath {
        case .stringField where isQuote:
            let token = try scanner.scanString()
            let index = slots[slotIndex].schemaIndex
            ReleaseFreeStore.store(.string(scanner.makeString(token)), at: progress.values! + index, supported: releaseFree)
            progress.markSeen(index)
            return
        case .entity where isQuote:
            let token = try scanner.scanString()
            // Without escapes a string holds no U+0000 (`scanString` rejects raw control bytes).
            if token.length > 0, !token.hasEscapes {
                ReleaseFreeStore.store(scanner.makeString(token), into: &event.entityID, supported: releaseFree)
                progress.entitySeen = true
            } else {
                applyMember(slotIndex, value: .string(token), scanner: scanner, progress: &progress, event: &event)
            }
            return
        case .eventID where isQuote:
            let token = try scanner.scanString()
            if token.hasEscapes {
                applyMember(slotIndex, value: .string(token), scanner: scanner, progress: &progress, event: &event)
            } else {
                ReleaseFreeStore.store(token.length > 0 ? scanner.makeString(token) : nil, into: &event.eventID, supported: releaseFree)
            }
            return
        case .doubleField where isNumber:
            let number = try scanner.scanNumber()
            if let d = number.doubleValue(in: scanner.base) {
                let index = slots[slotIndex].schemaIndex
                ReleaseFreeStore.store(.double(d), at: progress.values! + index, supported: releaseFree)
                progress.markSeen(index)
            } else {
                applyMember(slotIndex, value: .number(number), scanner: scanner, progress: &progress, event: &event)
            }
            return
        case .eventTime where isNumber && configuration.timestampFormat != .rfc3339:
            // Thirteen digits (epoch milliseconds of 2001-09-09 to 2286-11-20) are how producers write
            // it: read as two words. An integer of 13 digits without a leading zero is what the scan
            // and the checks below accept as milliseconds, with the same value.
            let p = scanner.pos
            if configuration.timestampFormat != .epochSeconds, b != UInt8(ascii: "0"), p + 16 <= scanner.count {
                let raw = UnsafeRawPointer(scanner.base + p)
                let high = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
                let next = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                // The five digits after the first eight, behind three '0' bytes.
                let low = next << 24 | 0x30_3030
                let after = UInt8(truncatingIfNeeded: next >> 40)
                if JSONEventScanner.isEightDigits(high), JSONEventScanner.isEightDigits(low),
                   after &- UInt8(ascii: "0") > 9, after != UInt8(ascii: "."), after | 0x20 != UInt8(ascii: "e") {
                    event.eventTimeMillis = Int64(JSONEventScanner.eightDigitsValue(high) &* 100_000 &+ JSONEventScanner.eightDigitsValue(low))
                    progress.eventTimeSeen = true
                    scanner.pos = p + 13
                    return
                }
            }
            let number = try scanner.scanNumber()
            // Plain integer epoch milliseconds (the usual producer encoding); everything else goes the long way.
            if number.isIntegerLiteral, !number.truncated, !number.negative,
               configuration.timestampFormat != .epochSeconds,
               number.mantissa >= 100_000_000_000, number.mantissa <= UInt64(Self.supportedMillis.upperBound) {
                event.eventTimeMillis = Int64(number.mantissa)
                progress.eventTimeSeen = true
            } else {
                applyMember(slotIndex, value: .number(number), scanner: scanner, progress: &progress, event: &event)
            }
            return
        default:
            try scanGeneralMember(slotIndex, &scanner, progress: &progress, event: &event)
        }
    }

    /// The general path of `scanConfiguredMember`: any value, every role, every error. Out of line, so
    /// that the fast paths stay small enough to be inlined into the member loop.
    @inline(never)
    func scanGeneralMember(
        _ slotIndex: Int, _ scanner: inout JSONEventScanner, progress: inout DecodeProgress, event: inout DecodedEvent
    ) throws(JSONScanFailure) {
        let value = try Self.scanMemberValue(&scanner)
        applyMember(slotIndex, value: value, scanner: scanner, progress: &progress, event: &event)
    }

    /// Applies one configured member to the event under every role its name plays.
    ///
    /// Out of line: it is the general path (other types, several roles, every error), and inlined into
    /// `scanConfiguredMember` it made that function too large to be inlined into the member loop.
    @inline(never)
    func applyMember(
        _ slotIndex: Int,
        value: MemberValue,
        scanner: JSONEventScanner,
        progress: inout DecodeProgress,
        event: inout DecodedEvent
    ) {
        let slot = slots[slotIndex]
        if slot.isEntity { applyEntity(value, slot: slotIndex, scanner: scanner, progress: &progress, event: &event) }
        if slot.isEventTime { applyEventTime(value, slot: slotIndex, scanner: scanner, progress: &progress, event: &event) }
        if slot.isEventID { applyEventID(value, slot: slotIndex, scanner: scanner, progress: &progress, event: &event) }
        if slot.schemaIndex >= 0 {
            applyField(value, index: slot.schemaIndex, slot: slotIndex, scanner: scanner, progress: &progress, event: &event)
        }
    }

    @inline(__always)
    private func applyEntity(
        _ value: MemberValue, slot: Int, scanner: JSONEventScanner,
        progress: inout DecodeProgress, event: inout DecodedEvent
    ) {
        let expected = "a non-empty string or an integer entity id"
        switch value {
        case .string(let token):
            guard token.length > 0 else {
                progress.record(EventDecodeError(reason: .missingEntity, message: "entity field '\(slotNames[slot])' is an empty string; expected \(expected)", field: slotNames[slot]))
                return
            }
            let entity = scanner.makeString(token)
            // JSON may escape U+0000 (\u0000); PostgreSQL text cannot hold it, so such an id is unusable.
            guard !entity.utf8.contains(0) else {
                progress.record(EventDecodeError(reason: .missingEntity, message: "entity field '\(slotNames[slot])' contains U+0000 (\\u0000), which the feature store cannot keep; expected \(expected) without U+0000", field: slotNames[slot]))
                return
            }
            event.entityID = entity
            progress.entitySeen = true
        case .number(let number):
            switch number.integerValue() {
            case .value(let v):
                event.entityID = String(v)
                progress.entitySeen = true
            case .fractional:
                progress.record(Self.wrongType(slotNames[slot], expected: expected, value: value, scanner: scanner))
            case .outOfRange:
                progress.record(EventDecodeError(reason: .invalidNumber, message: "field '\(slotNames[slot])': integer entity id outside the Int64 range, got \(Self.describe(value, scanner: scanner))", field: slotNames[slot]))
            }
        case .null:
            progress.record(EventDecodeError(reason: .missingEntity, message: "entity field '\(slotNames[slot])' is null; expected \(expected)", field: slotNames[slot]))
        default:
            progress.record(Self.wrongType(slotNames[slot], expected: expected, value: value, scanner: scanner))
        }
    }

    @inline(__always)
    private func applyEventID(
        _ value: MemberValue, slot: Int, scanner: JSONEventScanner,
        progress: inout DecodeProgress, event: inout DecodedEvent
    ) {
        switch value {
        case .string(let token):
            let id = token.length > 0 ? scanner.makeString(token) : nil
            if let id, id.utf8.contains(0) {
                progress.record(EventDecodeError(reason: .wrongType, message: "field '\(slotNames[slot])': the event id contains U+0000 (\\u0000), which the feature store cannot keep; expected a string without U+0000 or an integer", field: slotNames[slot]))
                return
            }
            event.eventID = id
        case .number(let number):
            if case .value(let v) = number.integerValue() {
                event.eventID = String(v)
            } else {
                progress.record(Self.wrongType(slotNames[slot], expected: "a string or an integer event id", value: value, scanner: scanner))
            }
        case .null:
            event.eventID = nil
        default:
            progress.record(Self.wrongType(slotNames[slot], expected: "a string or an integer event id", value: value, scanner: scanner))
        }
    }

    @inline(__always)
    private func applyEventTime(
        _ value: MemberValue, slot: Int, scanner: JSONEventScanner,
        progress: inout DecodeProgress, event: inout DecodedEvent
    ) {
        let format = configuration.timestampFormat
        let expected = Self.timestampExpectation(format)
        switch value {
        case .string(let token) where format == .auto || format == .rfc3339:
            let outcome: RFC3339Timestamp.Outcome
            if token.hasEscapes {
                var text = scanner.makeString(token)
                outcome = text.withUTF8 { RFC3339Timestamp.parse($0) }
            } else {
                outcome = RFC3339Timestamp.parse(UnsafeBufferPointer(start: scanner.base + token.start, count: token.length))
            }
            switch outcome {
            case .millis(let millis):
                event.eventTimeMillis = millis
                progress.eventTimeSeen = true
            case .failure(let failure):
                progress.record(EventDecodeError(
                    reason: .invalidTimestamp,
                    message: "field '\(slotNames[slot])': expected \(expected), got \(Self.describe(value, scanner: scanner)) (\(failure.explanation))",
                    field: slotNames[slot]
                ))
            }
        case .number(let number) where format != .rfc3339:
            let scale: Int
            switch format {
            case .epochMillis: scale = 0
            case .epochSeconds: scale = 3
            default:
                if number.isIntegerLiteral && !number.truncated {
                    scale = number.mantissa >= 100_000_000_000 ? 0 : 3
                } else {
                    scale = abs(number.doubleValue(in: scanner.base) ?? .infinity) >= 1e11 ? 0 : 3
                }
            }
            guard let millis = number.flooredValue(scaledBy: scale, in: scanner.base), Self.supportedMillis.contains(millis) else {
                progress.record(EventDecodeError(
                    reason: .invalidTimestamp,
                    message: "field '\(slotNames[slot])': timestamp outside years 0000-9999, got \(Self.describe(value, scanner: scanner)) (read as epoch \(scale == 0 ? "milliseconds" : "seconds"))",
                    field: slotNames[slot]
                ))
                return
            }
            event.eventTimeMillis = millis
            progress.eventTimeSeen = true
        case .null:
            progress.record(EventDecodeError(reason: .missingField, message: "event time field '\(slotNames[slot])' is null; expected \(expected)", field: slotNames[slot]))
        default:
            progress.record(EventDecodeError(
                reason: .invalidTimestamp,
                message: "field '\(slotNames[slot])': expected \(expected), got \(Self.describe(value, scanner: scanner))",
                field: slotNames[slot]
            ))
        }
    }

    @inline(__always)
    private func applyField(
        _ value: MemberValue, index: Int, slot: Int, scanner: JSONEventScanner,
        progress: inout DecodeProgress, event: inout DecodedEvent
    ) {
        let type = fieldTypes[index]
        switch (type, value) {
        case (.double, .number(let number)):
            if let d = number.doubleValue(in: scanner.base) {
                progress.values![index] = .double(d)
                progress.markSeen(index)
            } else {
                progress.record(EventDecodeError(reason: .invalidNumber, message: "field '\(slotNames[slot])': number outside the finite double range, got \(Self.describe(value, scanner: scanner))", field: slotNames[slot]))
            }
        case (.int, .number(let number)):
            switch number.integerValue() {
            case .value(let v):
                progress.values![index] = .int(v)
                progress.markSeen(index)
            case .fractional:
                progress.record(Self.wrongType(slotNames[slot], expected: Self.expectation(for: type), value: value, scanner: scanner))
            case .outOfRange:
                progress.record(EventDecodeError(reason: .invalidNumber, message: "field '\(slotNames[slot])': integer outside the Int64 range, got \(Self.describe(value, scanner: scanner))", field: slotNames[slot]))
            }
        case (.string, .string(let token)):
            progress.values![index] = .string(scanner.makeString(token))
            progress.markSeen(index)
        case (.bool, .bool(let b)):
            progress.values![index] = .bool(b)
            progress.markSeen(index)
        case (_, .null):
            if configuration.schema.fields[index].optional {
                progress.values![index] = .null
                progress.markSeen(index)
            } else {
                progress.record(EventDecodeError(reason: .missingField, message: "field '\(slotNames[slot])' is null; expected \(Self.expectation(for: type))", field: slotNames[slot]))
            }
        default:
            progress.record(Self.wrongType(slotNames[slot], expected: Self.expectation(for: type), value: value, scanner: scanner))
        }
    }

    // MARK: Messages

    static func wrongType(_ name: String, expected: String, value: MemberValue, scanner: JSONEventScanner) -> EventDecodeError {
        EventDecodeError(reason: .wrongType, message: "field '\(name)': expected \(expected), got \(describe(value, scanner: scanner))", field: name)
    }

    /// What a field of `type` must hold, for messages.
    static func expectation(for type: FieldType) -> String {
        switch type {
        case .double: return "a JSON number (double)"
        case .int: return "a JSON integer (int)"
        case .string: return "a JSON string (string)"
        case .bool: return "true or false (bool)"
        }
    }

    static func timestampExpectation(_ format: EventDecoderConfiguration.TimestampFormat) -> String {
        switch format {
        case .auto: return "an RFC 3339 timestamp string or an epoch number"
        case .rfc3339: return "an RFC 3339 timestamp string"
        case .epochMillis: return "a JSON number of epoch milliseconds"
        case .epochSeconds: return "a JSON number of epoch seconds"
        }
    }

    /// The longest excerpt of a value quoted in messages, in bytes.
    static let excerptLimit = 40

    /// A short rendering of a value for messages: `string "12.5x"`, `number 1e400`, `true`, `an object`.
    static func describe(_ value: MemberValue, scanner: JSONEventScanner) -> String {
        switch value {
        case .string(let token): return "string \"\(excerpt(scanner, token.start, token.end))\""
        case .number(let number): return "number \(excerpt(scanner, number.start, number.end))"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .object: return "an object"
        case .array: return "an array"
        }
    }

    /// Describes the (already validated) value starting at `offset`.
    static func describeValue(at offset: Int, scanner: JSONEventScanner) -> String {
        var copy = scanner
        copy.pos = offset
        guard let value = try? scanMemberValue(&copy) else { return "a value" }
        switch value {
        case .string: return "a string"
        default: return describe(value, scanner: scanner)
        }
    }

    /// The payload bytes `start..<end`, cut to `excerptLimit` bytes at a UTF-8 boundary, with `…` when cut.
    static func excerpt(_ scanner: JSONEventScanner, _ start: Int, _ end: Int) -> String {
        var stop = end
        var cut = false
        if end - start > excerptLimit {
            stop = start + excerptLimit
            while stop > start, scanner.base[stop] & 0xC0 == 0x80 { stop -= 1 }
            cut = true
        }
        let text = String(decoding: UnsafeBufferPointer(start: scanner.base + start, count: stop - start), as: UTF8.self)
        return cut ? text + "…" : text
    }
}
