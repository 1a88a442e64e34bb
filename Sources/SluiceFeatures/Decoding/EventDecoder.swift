/// Decodes and validates one JSON input event in a single pass over its bytes.
///
/// The whole payload is validated (syntax, UTF-8, nesting depth, escapes), even after every wanted
/// member has been found. Members other than the configured ones are skipped. Rules where JSON or
/// the configuration leave room:
/// - Duplicate member names: the last occurrence's value wins (as in `JSON.parse`, Python's `json`
///   and `JSONSerialization`), but any occurrence whose value is invalid rejects the event.
/// - `int` fields accept any integral number: `3`, `3.0` and `3e2`; `3.5` is `wrong_type`; integers
///   outside the `Int64` range are `invalid_number`. `double` fields accept integers too. Numbers
///   overflowing the finite `Double` range are `invalid_number`; underflow rounds to zero/subnormal.
/// - The entity id is a non-empty string or an integer (rendered as its decimal string, so `42`
///   and `"42"` are the same entity); null or `""` is `missing_entity`.
/// - The event id is a string or an integer; null or `""` leaves `eventID` nil.
/// - An explicit `null` is accepted for optional fields (`.null`); for required ones it is `missing_field`.
/// - Which error wins when a payload has several: `oversized`; then the first syntax, UTF-8 or
///   `not_object` problem; then the first invalid configured member in document order; then a
///   missing entity; then missing fields (event time first, then schema order); then `future_timestamp`.
/// - Unpaired UTF-16 surrogate escapes (`"\uD800"`) are `invalid_json`: no valid string holds them.
/// - A byte-order mark is not accepted (RFC 8259 §8.1 forbids sending one).
/// - `invalid_utf8` is for malformed UTF-8 inside strings; any other non-ASCII byte is outside a
///   string, where JSON allows only ASCII, and is `invalid_json`.
/// - Nesting: the top-level object is depth 1; deeper than `maxNestingDepth` is `invalid_json`.
///
/// Performance: no heap allocation per event when `event` is reused and strings are at most 15
/// UTF-8 bytes (Swift's small strings); the common single-role members of the expected type take a
/// shortcut past the general member handling.
package struct EventDecoder: Sendable {
    /// The configuration this decoder was built from.
    package let configuration: EventDecoderConfiguration

    /// One entry per distinct member name the decoder looks for, with every role that name plays.
    struct KeySlot: Sendable {
        var nameStart: Int
        var nameLength: Int
        var firstByte: UInt8
        var isEntity = false
        var isEventTime = false
        var isEventID = false
        /// Index into `schema.fields`, or -1.
        var schemaIndex = -1
        /// The single role of this name when it has exactly one, for the decoder's fast paths.
        var fastPath = FastPath.general
        /// The first (up to) 8 name bytes, zero-padded, and a mask of the bytes that count.
        var nameWord: UInt64 = 0
        var nameMask: UInt64 = 0
        /// Whether the name is 1…8 bytes of printable ASCII other than '"' and '\\': then payload bytes
        /// equal to it and followed by '"' are exactly a key with this name, written without escapes,
        /// so a predicted member name is confirmed by one masked word comparison.
        var isPredictable = false
    }

    /// Shortcuts for names with exactly one role and the expected JSON type; anything else, and every
    /// error, goes through the general `scanMemberValue` + `applyMember` path.
    enum FastPath: UInt8, Sendable {
        case general, doubleField, stringField, entity, eventTime, eventID
    }

    let slots: [KeySlot]
    /// `slotNames[i]` is the member name of `slots[i]` (kept apart so slots stay trivially copyable).
    let slotNames: [String]
    /// Perfect hash of (length, first byte, last byte) → slot index or -1; see `SlotHashTable`.
    let slotTable: SlotHashTable
    /// The UTF-8 bytes of all slot names, back to back (for names longer than 8 bytes).
    let nameBytes: [UInt8]
    let fieldTypes: [FieldType]
    /// Bit i set: schema field i (< 64) is required / optional. Fields from index 64 on are checked by value.
    let requiredMask: UInt64
    let optionalMask: UInt64
    /// `SmallASCIIString.isSupported`, read once.
    let smallStrings = SmallASCIIString.isSupported
    /// `ReleaseFreeStore.isSupported`, read once.
    let releaseFree = ReleaseFreeStore.isSupported

    /// Earliest and latest accepted event times: 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
    static let supportedMillis: ClosedRange<Int64> = -62_167_219_200_000...253_402_300_799_999

    /// Builds a decoder, precomputing the member-name lookup.
    /// - Throws: `EventDecoderConfigurationError` when a field name is empty, a schema field is declared
    ///   twice, or a limit is out of range.
    package init(configuration: EventDecoderConfiguration) throws(EventDecoderConfigurationError) {
        guard !configuration.entityField.isEmpty else { throw .init(message: "entity field name must not be empty") }
        guard !configuration.eventTimeField.isEmpty else { throw .init(message: "event time field name must not be empty") }
        if let id = configuration.eventIDField, id.isEmpty { throw .init(message: "event id field name must not be empty when set") }
        guard configuration.maxPayloadBytes > 0 else {
            throw .init(message: "maxPayloadBytes must be positive, got \(configuration.maxPayloadBytes)")
        }
        guard (1...EventDecoderConfiguration.nestingDepthLimit).contains(configuration.maxNestingDepth) else {
            throw .init(message: "maxNestingDepth must be in 1...\(EventDecoderConfiguration.nestingDepthLimit), got \(configuration.maxNestingDepth)")
        }
        guard configuration.maxFutureSkewMillis >= 0 else {
            throw .init(message: "maxFutureSkewMillis must not be negative, got \(configuration.maxFutureSkewMillis)")
        }
        var slots: [KeySlot] = []
        var names: [String] = []
        var bytes: [UInt8] = []
        func slotIndex(_ name: String) -> Int {
            if let i = names.firstIndex(of: name) { return i }
            let utf8 = Array(name.utf8)
            var slot = KeySlot(nameStart: bytes.count, nameLength: utf8.count, firstByte: utf8[0])
            for (k, b) in utf8.prefix(8).enumerated() {
                slot.nameWord |= UInt64(b) << UInt64(8 * k)
                slot.nameMask |= 0xFF << UInt64(8 * k)
            }
            slot.isPredictable = utf8.count <= 8 && utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
            slots.append(slot)
            names.append(name)
            bytes.append(contentsOf: utf8)
            return slots.count - 1
        }
        slots.reserveCapacity(configuration.schema.fields.count + 3)
        slots[slotIndex(configuration.entityField)].isEntity = true
        slots[slotIndex(configuration.eventTimeField)].isEventTime = true
        if let id = configuration.eventIDField { slots[slotIndex(id)].isEventID = true }
        for (i, field) in configuration.schema.fields.enumerated() {
            guard !field.name.isEmpty else { throw .init(message: "schema field \(i) has an empty name") }
            let s = slotIndex(field.name)
            guard slots[s].schemaIndex < 0 else { throw .init(message: "schema field '\(field.name)' is declared twice") }
            slots[s].schemaIndex = i
        }
        self.configuration = configuration
        for i in slots.indices {
            let slot = slots[i]
            let roles = (slot.isEntity ? 1 : 0) + (slot.isEventTime ? 1 : 0) + (slot.isEventID ? 1 : 0) + (slot.schemaIndex >= 0 ? 1 : 0)
            guard roles == 1 else { continue }
            if slot.isEntity { slots[i].fastPath = .entity }
            if slot.isEventTime { slots[i].fastPath = .eventTime }
            if slot.isEventID { slots[i].fastPath = .eventID }
            if slot.schemaIndex >= 0 {
                switch configuration.schema.fields[slot.schemaIndex].type {
                case .double: slots[i].fastPath = .doubleField
                case .string: slots[i].fastPath = .stringField
                case .int, .bool: break
                }
            }
        }
        self.slots = slots
        self.slotNames = names
        self.nameBytes = bytes
        self.slotTable = SlotHashTable(names: names.map { Array($0.utf8) })
        self.fieldTypes = configuration.schema.fields.map(\.type)
        var required: UInt64 = 0
        var optional: UInt64 = 0
        for (i, field) in configuration.schema.fields.prefix(64).enumerated() {
            if field.optional { optional |= 1 << UInt64(i) } else { required |= 1 << UInt64(i) }
        }
        self.requiredMask = required
        self.optionalMask = optional
    }

    /// Decodes and validates one event.
    ///
    /// - Parameters:
    ///   - bytes: the raw payload (UTF-8 JSON).
    ///   - nowMillis: the current time in epoch milliseconds, for the future-timestamp check.
    ///   - event: overwritten in place with the decoded event (its `values` array is reused).
    ///     After a failure its contents are unspecified.
    /// - Returns: nil when the event is valid, otherwise why it was rejected.
    package func decode(_ bytes: UnsafeRawBufferPointer, nowMillis: Int64, into event: inout DecodedEvent) -> EventDecodeError? {
        guard bytes.count <= configuration.maxPayloadBytes else {
            return EventDecodeError(
                reason: .oversized,
                message: "payload of \(bytes.count) bytes exceeds the limit of \(configuration.maxPayloadBytes) bytes"
            )
        }
        let fieldCount = fieldTypes.count
        if event.values.count != fieldCount {
            event.values = Array(repeating: .null, count: fieldCount)
        } else if fieldCount > 64 {
            for i in 64..<fieldCount { event.values[i] = .null }
        }
        ReleaseFreeStore.store(nil, into: &event.eventID, supported: releaseFree)
        guard bytes.count > 0, let raw = bytes.baseAddress else {
            return EventDecodeError(reason: .invalidJSON, message: "invalid JSON at byte 0: empty payload, expected a JSON object", byteOffset: 0)
        }
        var scanner = JSONEventScanner(
            base: raw.assumingMemoryBound(to: UInt8.self),
            count: bytes.count,
            maxDepth: configuration.maxNestingDepth
        )
        scanner.smallStrings = smallStrings
        var progress = DecodeProgress()
        // The field values are written through one pointer (one uniqueness check per event, not one per
        // store): the array is moved out of the event for the scan and back after it.
        var values: [FieldValue] = []
        swap(&values, &event.values)
        let failure: JSONScanFailure? = values.withUnsafeMutableBufferPointer { valueBuffer in
            progress.values = valueBuffer.baseAddress
            return slots.withUnsafeBufferPointer { slotBuffer in
                nameBytes.withUnsafeBufferPointer { nameBuffer -> JSONScanFailure? in
                    do throws(JSONScanFailure) {
                        try scanDocument(&scanner, slots: slotBuffer, names: nameBuffer, progress: &progress, event: &event)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
        }
        progress.values = nil
        swap(&values, &event.values)
        if let failure { return failure.error }
        if let fieldError = progress.firstFieldError { return fieldError }
        guard progress.entitySeen else {
            return EventDecodeError(
                reason: .missingEntity,
                message: "entity field '\(configuration.entityField)' is missing",
                field: configuration.entityField
            )
        }
        guard progress.eventTimeSeen else {
            return EventDecodeError(
                reason: .missingField,
                message: "event time field '\(configuration.eventTimeField)' is missing",
                field: configuration.eventTimeField
            )
        }
        let missingRequired = requiredMask & ~progress.seenFields
        if missingRequired != 0 {
            return missingFieldError(Int(missingRequired.trailingZeroBitCount))
        }
        var unseenOptional = optionalMask & ~progress.seenFields
        while unseenOptional != 0 {
            event.values[unseenOptional.trailingZeroBitCount] = .null
            unseenOptional &= unseenOptional - 1
        }
        if fieldCount > 64 {
            for i in 64..<fieldCount where !configuration.schema.fields[i].optional {
                if case .null = event.values[i] { return missingFieldError(i) }
            }
        }
        let latest = nowMillis.addingReportingOverflow(configuration.maxFutureSkewMillis)
        if !latest.overflow, event.eventTimeMillis > latest.partialValue {
            return EventDecodeError(
                reason: .futureTimestamp,
                message: "field '\(configuration.eventTimeField)': event time \(RFC3339Timestamp.format(millis: event.eventTimeMillis)) is more than \(configuration.maxFutureSkewMillis) ms after now (\(RFC3339Timestamp.format(millis: nowMillis)))",
                field: configuration.eventTimeField
            )
        }
        return nil
    }

    private func missingFieldError(_ index: Int) -> EventDecodeError {
        let field = configuration.schema.fields[index]
        return EventDecodeError(
            reason: .missingField,
            message: "field '\(field.name)' is missing; expected \(Self.expectation(for: field.type))",
            field: field.name
        )
    }

    /// What a decode has seen so far.
    struct DecodeProgress {
        var entitySeen = false
        var eventTimeSeen = false
        /// Bit i: schema field i (< 64) was set.
        var seenFields: UInt64 = 0
        var firstFieldError: EventDecodeError?
        /// The event's field values during the scan (`DecodedEvent.values`, moved out).
        var values: UnsafeMutablePointer<FieldValue>?

        @inline(__always)
        mutating func markSeen(_ index: Int) {
            if index < 64 { seenFields |= 1 << UInt64(index) }
        }

        mutating func record(_ error: EventDecodeError) {
            if firstFieldError == nil { firstFieldError = error }
        }
    }

    /// Scans the whole document: the top-level object, its members, and nothing after it but whitespace.
    private func scanDocument(
        _ scanner: inout JSONEventScanner,
        slots: UnsafeBufferPointer<KeySlot>,
        names: UnsafeBufferPointer<UInt8>,
        progress: inout DecodeProgress,
        event: inout DecodedEvent
    ) throws(JSONScanFailure) {
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else {
            let start = scanner.pos
            guard scanner.pos < scanner.count else {
                throw .syntax("expected a JSON object", at: scanner.pos, in: scanner)
            }
            try scanner.skipValue(depth: 0)
            scanner.skipWhitespace()
            guard scanner.pos == scanner.count else {
                throw .syntax("expected end of input after the top-level value", at: scanner.pos, in: scanner)
            }
            let kind = Self.describeValue(at: start, scanner: scanner)
            throw JSONScanFailure(error: EventDecodeError(
                reason: .notObject,
                message: "expected a JSON object at the top level, got \(kind)",
                byteOffset: start
            ))
        }
        scanner.pos += 1
        scanner.skipWhitespace()
        if scanner.peek() == UInt8(ascii: "}") {
            scanner.pos += 1
        } else {
            // Producers write their members in the same order in every event: the previous payload's
            // order (`DecodedEvent.memberOrderHint`) names the slot to try first for each member, and
            // this payload's order becomes the next hint.
            var hint = event.memberOrderHint
            var order: UInt64 = 0
            var orderShift: UInt64 = 0
            guard scanner.peek() == UInt8(ascii: "\"") else {
                throw .syntax("expected '\"' to start an object member name", at: scanner.pos, in: scanner)
            }
            // Each iteration starts at a member name's opening quote.
            while true {
                let guess = Int(truncatingIfNeeded: hint & 0xFF) &- 1
                hint >>= 8
                var slot = -1
                if guess >= 0 && guess < slots.count, let end = predictedKeyEnd(slots[guess], scanner: scanner) {
                    // The key is the guessed name: what `scanString` and `matchSlot` would conclude.
                    slot = guess
                    scanner.pos = end
                } else {
                    let key = try scanner.scanString()
                    slot = matchSlot(key, scanner: scanner, slots: slots, names: names)
                }
                // Slot + 1 in this member's byte (0 for a skipped member; members after the eighth shift
                // out). A slot number of 255 or more wraps: the hint is wrong then, never the result.
                order |= (UInt64(truncatingIfNeeded: slot &+ 1) & 0xFF) << orderShift
                orderShift &+= 8
                if scanner.peek() == UInt8(ascii: ":") {
                    scanner.pos += 1 // the compact form, without whitespace
                } else {
                    scanner.skipWhitespace()
                    try scanner.expect(UInt8(ascii: ":"), "expected ':' after object member name")
                }
                scanner.skipWhitespace()
                if slot < 0 {
                    try scanner.skipValue(depth: 1)
                } else {
                    try scanConfiguredMember(slot, fastPath: slots[slot].fastPath, &scanner, progress: &progress, event: &event)
                }
                // The compact separator, `,"` right after the value (how producers write): one 16-bit
                // comparison instead of the whitespace checks around ',' and the name's quote.
                let p = scanner.pos
                if p + 2 <= scanner.count,
                   UInt16(littleEndian: UnsafeRawPointer(scanner.base + p).loadUnaligned(as: UInt16.self)) == Self.commaQuote {
                    scanner.pos = p + 1
                    continue
                }
                scanner.skipWhitespace()
                let b = scanner.peek()
                if b == UInt8(ascii: ",") {
                    scanner.pos += 1
                    scanner.skipWhitespace()
                    guard scanner.peek() == UInt8(ascii: "\"") else {
                        throw .syntax("expected '\"' to start an object member name", at: scanner.pos, in: scanner)
                    }
                    continue
                }
                if b == UInt8(ascii: "}") {
                    scanner.pos += 1
                    event.memberOrderHint = order
                    break
                }
                throw .syntax("expected ',' or '}' after object member", at: scanner.pos, in: scanner)
            }
        }
        scanner.skipWhitespace()
        guard scanner.pos == scanner.count else {
            throw .syntax("expected end of input after the top-level object", at: scanner.pos, in: scanner)
        }
    }

    /// The bytes `,"` loaded as a little-endian `UInt16` (computed, not a `static let`: that may cost a
    /// `swift_once` check per use).
    @inline(__always)
    static var commaQuote: UInt16 { UInt16(UInt8(ascii: ",")) | UInt16(UInt8(ascii: "\"")) << 8 }

    /// When the member name at `scanner.pos` (its opening quote) is `slot`'s name, the offset just past
    /// its closing quote; nil when it is not (or the slot's name is not `isPredictable`).
    @inline(__always)
    private func predictedKeyEnd(_ slot: KeySlot, scanner: JSONEventScanner) -> Int? {
        let start = scanner.pos + 1
        let close = start + slot.nameLength
        // Eight bytes are loaded from `start`; the closing quote must be inside the payload too.
        guard slot.isPredictable, start + 8 <= scanner.count, close < scanner.count else { return nil }
        let word = UInt64(littleEndian: UnsafeRawPointer(scanner.base + start).loadUnaligned(as: UInt64.self))
        guard word & slot.nameMask == slot.nameWord, scanner.base[close] == UInt8(ascii: "\"") else { return nil }
        return close + 1
    }

    /// The slot whose name equals the key, or -1.
    @inline(__always)
    private func matchSlot(
        _ key: JSONEventScanner.StringToken,
        scanner: JSONEventScanner,
        slots: UnsafeBufferPointer<KeySlot>,
        names: UnsafeBufferPointer<UInt8>
    ) -> Int {
        if key.hasEscapes { return matchEscapedSlot(key, scanner: scanner) }
        let length = key.length
        guard length > 0 else { return -1 }
        let keyBytes = scanner.base + key.start
        let candidate = slotTable.lookup(length: length, first: keyBytes[0], last: keyBytes[length - 1])
        // Names of up to 8 bytes compare as one masked 8-byte word; the payload side
        // may be loaded whole when 8 bytes remain after the key start (almost always: ':' and a value follow).
        let wordSafe = key.start + 8 <= scanner.count
        @inline(__always) func equals(_ i: Int) -> Bool {
            let slot = slots[i]
            guard slot.nameLength == length else { return false }
            if length <= 8 && wordSafe {
                let a = UInt64(littleEndian: UnsafeRawPointer(keyBytes).loadUnaligned(as: UInt64.self))
                return a & slot.nameMask == slot.nameWord
            }
            for k in 0..<length where names[slot.nameStart + k] != keyBytes[k] { return false }
            return true
        }
        if candidate >= 0 { return equals(candidate) ? candidate : -1 }
        if candidate == SlotHashTable.scanAll {
            for i in 0..<slots.count where equals(i) { return i }
        }
        return -1
    }

    /// The slot whose name equals a key written with escapes (rare), or -1.
    @inline(never)
    private func matchEscapedSlot(_ key: JSONEventScanner.StringToken, scanner: JSONEventScanner) -> Int {
        let name = scanner.makeString(key)
        return slotNames.firstIndex(of: name) ?? -1
    }
}
