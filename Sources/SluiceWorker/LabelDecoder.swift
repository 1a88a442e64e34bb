import Foundation
import SluiceFeatureStore
import SluiceFeatures

/// Decodes label messages: `{"prediction_id": "topic/partition/offset" | "event_id": "…", "label": number | bool,
/// "label_time"?: RFC 3339 | epoch milliseconds}`. Without `label_time` the label's Kafka timestamp is its time.
package struct LabelDecoder: Sendable {
    /// Why a label message was refused (the `sluice.error.reason` header of its dead letter).
    package enum Reason: String, Sendable, CaseIterable {
        case invalidJSON = "invalid_json"
        case missingField = "missing_field"
        case invalidLabel = "invalid_label"
        case invalidTimestamp = "invalid_timestamp"
        case invalidPredictionID = "invalid_prediction_id"
        case predictionNotFound = "prediction_not_found"
        case beyondHorizon = "beyond_horizon"
        case oversized
    }

    /// A refused label message: the reason and a sentence naming what was wrong and what was expected.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var reason: Reason
        package var description: String
    }

    /// A decoded label (its Kafka position is added by the caller).
    package struct Decoded: Sendable, Equatable {
        package var key: LabelStore.Key
        package var label: Double
        package var labelTimeMillis: Int64

        package init(key: LabelStore.Key, label: Double, labelTimeMillis: Int64) {
            self.key = key
            self.label = label
            self.labelTimeMillis = labelTimeMillis
        }
    }

    package let maxPayloadBytes: Int

    package init(maxPayloadBytes: Int = 1 << 20) {
        self.maxPayloadBytes = maxPayloadBytes
    }

    private struct Message: Decodable {
        var predictionID: String?
        var eventID: String?
        var label: LabelValue?
        var labelTime: TimeValue?

        enum CodingKeys: String, CodingKey {
            case predictionID = "prediction_id", eventID = "event_id", label, labelTime = "label_time"
        }
    }

    private enum LabelValue: Decodable {
        case number(Double), bool(Bool), other(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .other("the string \"\(s.prefix(40))\"") }
            else if c.decodeNil() { self = .other("null") }
            else { self = .other("an array or object") }
        }
    }

    private enum TimeValue: Decodable {
        case millis(Double), text(String), other
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .millis(d) }
            else if let s = try? c.decode(String.self) { self = .text(s) }
            else { self = .other }
        }
    }

    /// Decodes one label message; `timestampMillis` is its Kafka timestamp (the label time when the message has none).
    package func decode(_ bytes: ArraySlice<UInt8>, timestampMillis: Int64) -> Result<Decoded, Failure> {
        func fail(_ reason: Reason, _ text: String) -> Result<Decoded, Failure> { .failure(Failure(reason: reason, description: text)) }
        guard bytes.count <= maxPayloadBytes else {
            return fail(.oversized, "label message of \(bytes.count) bytes is larger than the limit of \(maxPayloadBytes) bytes")
        }
        let message: Message
        do {
            message = try JSONDecoder().decode(Message.self, from: Data(bytes))
        } catch {
            return fail(.invalidJSON, "label message is not valid JSON of the expected form {\"prediction_id\" | \"event_id\", \"label\", \"label_time\"?}")
        }
        let key: LabelStore.Key
        if let id = message.predictionID {
            guard let parsed = Self.parsePredictionID(id) else {
                return fail(.invalidPredictionID, "prediction_id \"\(id.prefix(200))\" is not a prediction id; expected topic/partition/offset as in the prediction message")
            }
            key = parsed
        } else if let id = message.eventID {
            guard !id.isEmpty else { return fail(.missingField, "event_id is empty; expected the scored event's id") }
            key = .event(id)
        } else {
            return fail(.missingField, "label message has neither prediction_id nor event_id; expected one of them")
        }
        let label: Double
        switch message.label {
        case nil: return fail(.missingField, "label message has no label; expected a number or a boolean")
        case .bool(let b): label = b ? 1 : 0
        case .number(let d):
            guard d.isFinite else { return fail(.invalidLabel, "label is not a finite number; expected a number or a boolean") }
            label = d
        case .other(let what): return fail(.invalidLabel, "label is \(what); expected a number or a boolean")
        }
        var labelTime = timestampMillis
        switch message.labelTime {
        case nil: break
        case .millis(let d):
            guard d.isFinite, abs(d) < 1e15, d == d.rounded() else {
                return fail(.invalidTimestamp, "label_time \(d) is not epoch milliseconds; expected an integer or an RFC 3339 string")
            }
            labelTime = Int64(d)
        case .text(let s):
            guard let millis = RFC3339Timestamp.parseMillis(s) else {
                return fail(.invalidTimestamp, "label_time \"\(s.prefix(60))\" is not a timestamp; expected RFC 3339 (e.g. 2026-11-23T10:00:00Z) or epoch milliseconds")
            }
            labelTime = millis
        case .other:
            return fail(.invalidTimestamp, "label_time has the wrong type; expected an RFC 3339 string or epoch milliseconds")
        }
        return .success(Decoded(key: key, label: label, labelTimeMillis: labelTime))
    }

    /// `topic/partition/offset` → the prediction key (topic names cannot contain `/`, so it splits from the right).
    package static func parsePredictionID(_ id: String) -> LabelStore.Key? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let partition = Int32(parts[1]), partition >= 0,
              let offset = Int64(parts[2]), offset >= 0 else { return nil }
        return .prediction(topic: String(parts[0]), partition: partition, offset: offset)
    }
}
