/// Conveniences for callers that hold the payload in an array or string (tests, tools).
extension EventDecoder {
    /// Decodes one event from `bytes`; see `decode(_:nowMillis:into:)`.
    package func decode(_ bytes: [UInt8], nowMillis: Int64) -> Result<DecodedEvent, EventDecodeError> {
        var event = DecodedEvent()
        let error = bytes.withUnsafeBytes { decode($0, nowMillis: nowMillis, into: &event) }
        if let error { return .failure(error) }
        return .success(event)
    }

    /// Decodes one event from the UTF-8 bytes of `text`; see `decode(_:nowMillis:into:)`.
    package func decode(_ text: String, nowMillis: Int64) -> Result<DecodedEvent, EventDecodeError> {
        decode(Array(text.utf8), nowMillis: nowMillis)
    }
}
