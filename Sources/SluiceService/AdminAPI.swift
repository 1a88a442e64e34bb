import Foundation
import Hummingbird
import Logging
import NIOCore
import SluiceConfiguration
import SluiceEvaluation
import SluiceFeatureStore
import SluiceFeatures
import SluicePostgres
import SluiceRegistry
import SluiceSnapshots
import SluiceWorker

/// The HTTP admin API (README, "HTTP API"): probes, metrics, features, models, drift, snapshots, pause/resume.
///
/// Reads answer everyone; every mutating endpoint (POST) needs `Authorization: Bearer <http.token>`, and refuses
/// every request when no token is configured. Errors are `{"error": "..."}` with a status that says whose fault
/// it was: 400 bad request, 401 no or wrong token, 403 no token configured, 404 unknown entity/model/version,
/// 409 refused (promotion gate, invalid stage transition), 503 not ready.
package struct AdminAPI: Sendable {
    package let config: SluiceConfig
    package let worker: Worker
    package let readiness: Readiness
    /// Connections for the API's reads and registry changes (never the worker's).
    package let pool: PostgresPool
    /// Runs snapshot exports one at a time, shared with the alert and schedule triggers.
    package let snapshots: AlertSnapshots
    /// The features the pipeline computes (a registered model must use only these).
    package let pipelineFeatures: [String]
    package let logger: Logger
    /// The Prometheus text for `GET /metrics` (the process's registry; tests pass their own).
    package let renderMetrics: @Sendable () -> [UInt8]

    package init(config: SluiceConfig, worker: Worker, readiness: Readiness, pool: PostgresPool, snapshots: AlertSnapshots,
                 pipelineFeatures: [String], logger: Logger, renderMetrics: @escaping @Sendable () -> [UInt8] = PrometheusExport.render) {
        self.renderMetrics = renderMetrics
        self.config = config
        self.worker = worker
        self.readiness = readiness
        self.pool = pool
        self.snapshots = snapshots
        self.pipelineFeatures = pipelineFeatures
        self.logger = logger
    }

    /// Largest request body accepted (the JSON bodies are small).
    static let maxBody = 64 * 1_024

    package func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/healthz") { _, _ in Self.json(["status": "alive"]) }
        router.get("/readyz") { _, _ in
            let report = await readiness.report()
            return Self.json(report, status: report.ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: renderMetrics())))
        }
        router.get("/v1/features/:entity") { request, context in
            try await respond { try await features(request, context) }
        }
        router.get("/v1/models") { request, _ in
            try await respond {
                let name = request.uri.queryParameters.get("name")
                if let name { try ModelRegistry.validate(name: name) }
                let models = try await withRegistry { try await $0.list(name: name) }
                return Self.json(models.map { ModelJSON($0) })
            }
        }
        router.get("/v1/drift") { request, _ in
            try await respond {
                let model = request.uri.queryParameters.get("model")
                if let model { try ModelRegistry.validate(name: model) }
                let statuses = try await pool.withConnection { try await DriftStatusQuery.load(connection: $0, schema: config.postgres.schema, model: model) }
                return Self.json(statuses)
            }
        }
        router.post("/v1/models/:name/promote") { request, context in
            try await respond {
                try authorize(request)
                return try await promote(request, context)
            }
        }
        router.post("/v1/models/:name/rollback") { request, context in
            try await respond {
                try authorize(request)
                let name = try context.parameters.require("name")
                try ModelRegistry.validate(name: name)
                let (from, to) = try await withRegistry { try await $0.rollback(name: name) }
                return Self.json(RollbackJSON(model: name, from: from, to: to))
            }
        }
        router.post("/v1/snapshots") { request, _ in
            try await respond {
                try authorize(request)
                return try await snapshot(request)
            }
        }
        router.post("/v1/pause") { request, _ in
            try await respond {
                try authorize(request)
                try worker.pause()
                return Self.json(["paused": true])
            }
        }
        router.post("/v1/resume") { request, _ in
            try await respond {
                try authorize(request)
                try worker.resume()
                return Self.json(["paused": false])
            }
        }
        return router
    }

    // MARK: Endpoints

    private func features(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let raw = try context.parameters.require("entity")
        let entity = raw.removingPercentEncoding ?? raw
        var asOfMillis: Int64? = nil
        if let asOf = request.uri.queryParameters.get("as_of") {
            guard let millis = RFC3339Timestamp.parseMillis(asOf) else {
                throw APIError(.badRequest, "as_of '\(asOf)' is not an RFC 3339 timestamp; expected e.g. 2026-01-02T03:04:05Z")
            }
            asOfMillis = millis
        }
        let found = try await pool.withConnection { connection in
            let store = try FeatureStore(connection: connection, schema: config.postgres.schema, group: config.kafka.group, logger: logger)
            if let asOfMillis { return try await store.features(entity: entity, asOfMillis: asOfMillis) }
            return try await store.online(entity: entity)
        }
        guard let found else {
            throw APIError(.notFound, "no features for entity '\(entity)'\(asOfMillis.map { " at or before \(formatRFC3339(millis: $0))" } ?? "")")
        }
        var writer = JSONOutputWriter()
        writer.string(entity)
        let body = "{\"entity\":\(writer.string),\"event_time\":\"\(formatRFC3339(millis: found.eventTimeMillis))\",\"features\":\(found.featuresJSON)}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// `{"version": 3, "stage": "production", "require": ["auc>=production-0.01"], "snapshot": "…", "allow_first": false}`.
    private struct PromoteBody: Decodable {
        var version: Int
        var stage: String?
        var require: [String]?
        var snapshot: String?
        var allowFirst: Bool?

        enum CodingKeys: String, CodingKey { case version, stage, require, snapshot, allowFirst = "allow_first" }
    }

    private func promote(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        try ModelRegistry.validate(name: name)
        let body = try await Self.decode(PromoteBody.self, from: request,
                                         expected: #"{"version": N, "stage"?: "production"|"shadow", "require"?: ["auc>=0.8", …], "snapshot"?: ID, "allow_first"?: bool}"#)
        let stage = try body.stage.map { text in
            guard let stage = ModelStage(rawValue: text), stage.isServing else {
                throw APIError(.badRequest, "stage '\(text)' is not one a promotion moves to; expected production or shadow")
            }
            return stage
        } ?? .production
        let requirements = try Self.requirements(body.require ?? [])
        if requirements.isEmpty, body.snapshot != nil || body.allowFirst == true {
            throw APIError(.badRequest, "snapshot and allow_first only apply to a gated promotion: add at least one requirement, e.g. \"require\": [\"auc>=0.8\"]")
        }
        guard !requirements.isEmpty else {
            let model = try await withRegistry { try await $0.promote(name: name, version: body.version, to: stage) }
            return Self.json(PromoteJSON(promoted: true, model: ModelJSON(model), gate: nil))
        }
        let (report, promoted) = try await withRegistry { registry in
            try await PromotionGate(registry: registry).promote(name: name, version: body.version, to: stage, requirements: requirements,
                                                                snapshotID: body.snapshot, allowFirst: body.allowFirst ?? false)
        }
        let document = PromoteJSON(promoted: promoted != nil, model: ModelJSON(promoted ?? report.candidate), gate: GateJSON(report))
        return Self.json(document, status: promoted == nil ? .conflict : .ok)
    }

    private static func requirements(_ texts: [String]) throws(APIError) -> [GateRequirement] {
        do {
            return try texts.map { text throws(GateRequirementError) in try GateRequirement(parsing: text) }
        } catch {
            throw APIError(.badRequest, error.message)
        }
    }

    /// `{"since"?: RFC 3339, "until"?: RFC 3339, "model"?: name, "version"?: N, "holdout"?: 0…1}`.
    private struct SnapshotBody: Decodable {
        var since: String?
        var until: String?
        var model: String?
        var version: Int?
        var holdout: Double?
    }

    private func snapshot(_ request: Request) async throws -> Response {
        let body = try await Self.decode(SnapshotBody.self, from: request,
                                         expected: #"{"since"?: RFC 3339, "until"?: RFC 3339, "model"?: name, "version"?: N, "holdout"?: 0…1}"#)
        func time(_ text: String?, _ field: String) throws -> Int64? {
            try text.map { text in
                guard let millis = RFC3339Timestamp.parseMillis(text) else {
                    throw APIError(.badRequest, "\(field) '\(text)' is not an RFC 3339 timestamp; expected e.g. 2026-01-02T03:04:05Z")
                }
                return millis
            }
        }
        if let model = body.model { try ModelRegistry.validate(name: model) }
        let request = SnapshotRequest(
            directory: config.snapshots.directory, reason: .api, sinceMillis: try time(body.since, "since"), untilMillis: try time(body.until, "until"),
            modelName: body.model, modelVersion: body.version, holdoutFraction: body.holdout ?? config.snapshots.holdoutFraction,
            rowGroupRows: config.snapshots.rowGroupRows)
        let publication = try await snapshots.requested(request)
        return Self.json(SnapshotCreatedJSON(publication), status: .created)
    }

    // MARK: Plumbing

    private func withRegistry<T: Sendable>(_ body: @Sendable (ModelRegistry) async throws -> T) async throws -> T {
        try await pool.withConnection { connection in
            try await body(try ModelRegistry(connection: connection, schema: config.postgres.schema, logger: logger))
        }
    }

    /// Checks `Authorization: Bearer <token>` against `http.token` in constant time.
    private func authorize(_ request: Request) throws {
        guard let token = config.http.token?.value else {
            throw APIError(.forbidden, "mutating endpoints are disabled: no http.token is configured (set SLUICE_HTTP_TOKEN or http.token_file)")
        }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "missing Authorization header; expected 'Authorization: Bearer <http.token>'")
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), Array(token.utf8)) else {
            throw APIError(.unauthorized, "the bearer token is wrong; expected 'Authorization: Bearer <http.token>'")
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// Runs a handler and turns its errors into JSON error responses with the status that fits.
    private func respond(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return error.response()
        } catch let error as RegistryError {
            let status: HTTPResponse.Status = switch error.code {
            case .notFound: .notFound
            case .invalidTransition: .conflict
            case .invalidName, .invalidModel, .featureMismatch: .badRequest
            default: .internalServerError
            }
            return APIError(status, "\(error)").response()
        } catch let error as SnapshotError {
            let status: HTTPResponse.Status = error.code == .invalidRequest ? .badRequest : error.code == .noRows ? .notFound : .internalServerError
            return APIError(status, error.message).response()
        } catch let error as ServiceError {
            return APIError(.internalServerError, error.description).response()
        } catch {
            logger.error("admin API request failed", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "\(error)").response()
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, from request: Request, expected: String) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBody)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(maxBody) bytes; expected \(expected)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, "the request body is not valid: \(Self.describe(error)); expected \(expected)")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "field '\(key.stringValue)' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        case .dataCorrupted(let context): context.codingPath.isEmpty ? "not JSON" : "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' is invalid"
        default: "\(error)"
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(value)) ?? Data(#"{"error":"the response could not be encoded"}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// `POST /v1/models/{name}/rollback`'s answer.
private struct RollbackJSON: Encodable {
    var model: String
    var from: Int
    var to: Int
}

/// An error answered with its status and `{"error": message}`.
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response() -> Response {
        var response = AdminAPI.json(["error": message], status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = #"Bearer realm="sluice""# }
        return response
    }
}
