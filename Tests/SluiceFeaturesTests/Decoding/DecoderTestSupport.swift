import Foundation
@testable import SluiceFeatures

/// Shared helpers for the decoder tests.
enum DecoderTestSupport {
    /// 2026-01-01T00:00:00Z.
    static let now: Int64 = 1_767_225_600_000

    static let schema = EventSchema(fields: [
        .init(name: "amount", type: .double),
        .init(name: "merchant", type: .string),
        .init(name: "count", type: .int, optional: true),
        .init(name: "flag", type: .bool, optional: true),
    ])

    static func configuration(
        format: EventDecoderConfiguration.TimestampFormat = .auto,
        maxPayloadBytes: Int = 1 << 20,
        maxNestingDepth: Int = 64
    ) -> EventDecoderConfiguration {
        EventDecoderConfiguration(
            schema: schema, entityField: "user_id", eventTimeField: "ts", timestampFormat: format,
            eventIDField: "event_id", maxPayloadBytes: maxPayloadBytes, maxNestingDepth: maxNestingDepth
        )
    }

    static func decoder(
        format: EventDecoderConfiguration.TimestampFormat = .auto,
        maxPayloadBytes: Int = 1 << 20,
        maxNestingDepth: Int = 64
    ) throws -> EventDecoder {
        try EventDecoder(configuration: configuration(format: format, maxPayloadBytes: maxPayloadBytes, maxNestingDepth: maxNestingDepth))
    }

    /// A valid event body (without braces) to which tests add members.
    static let validMembers = #""user_id":"u-1","ts":1767225000000,"amount":12.5,"merchant":"m-1""#

    static func fixturesDirectory() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// Foundation's reading of a JSON document (the reference), or nil when it rejects it.
    static func foundationObject(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }
}

extension Result {
    var decoderFailure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }

    var decoderSuccess: Success? {
        if case .success(let v) = self { return v }
        return nil
    }
}
