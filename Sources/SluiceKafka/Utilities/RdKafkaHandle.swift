import CRdKafka
import Logging

/// What a librdkafka client asks of its Swift owner from librdkafka's callbacks.
protocol RdKafkaCallbackHandler: AnyObject, Sendable {
    var logger: Logger { get }
    /// A produced message was delivered or failed (producer only; called on the poll thread).
    func handleDelivery(_ message: UnsafePointer<rd_kafka_message_t>)
    /// Partitions were assigned or revoked (consumer only; called on the poll thread inside a poll).
    func handleRebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>)
    /// A client-wide error (all brokers down, authentication failure, fatal error).
    func handleClientError(_ error: KafkaError)
}

extension RdKafkaCallbackHandler {
    func handleDelivery(_ message: UnsafePointer<rd_kafka_message_t>) {}
    func handleRebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {}
}

/// Holds the handler for librdkafka's C callbacks, which find it through the configuration's opaque pointer.
private final class CallbackBox {
    let handler: any RdKafkaCallbackHandler
    init(handler: any RdKafkaCallbackHandler) { self.handler = handler }
}

private func handler(of rk: OpaquePointer?) -> (any RdKafkaCallbackHandler)? {
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
    return Unmanaged<CallbackBox>.fromOpaque(opaque).takeUnretainedValue().handler
}

private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { rk, message, _ in
    guard let message else { return }
    handler(of: rk)?.handleDelivery(message)
}

private let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { rk, err, partitions, _ in
    guard let rk, let partitions else { return }
    handler(of: rk)?.handleRebalance(rk, err, partitions)
}

private let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { rk, err, reason, _ in
    handler(of: rk)?.handleClientError(KafkaError(code: .client, message: CString.string(reason), rdkafkaCode: err))
}

private let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { rk, level, facility, text in
    guard let handler = handler(of: rk) else { return }
    let swiftLevel: Logger.Level
    switch level {
    case ...3: swiftLevel = .error
    case 4: swiftLevel = .warning
    case 5, 6: swiftLevel = .info
    default: swiftLevel = .debug
    }
    handler.logger.log(level: swiftLevel, "\(CString.string(text))", metadata: ["rdkafka.facility": "\(CString.string(facility))"])
}

/// Owns one librdkafka client (`rd_kafka_t`).
///
/// `@unchecked Sendable`: librdkafka documents `rd_kafka_t` as thread-safe for every call Sluice makes, and the
/// handle is destroyed exactly once, in `deinit`, after its owner has stopped the threads that use it.
final class RdKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    private let box: Unmanaged<CallbackBox>
    private let isConsumer: Bool

    /// Creates a client of `type` from `properties`, wiring delivery, rebalance, error and log callbacks to `handler`.
    init(type: rd_kafka_type_t, properties: [(String, String)], handler: any RdKafkaCallbackHandler) throws(KafkaError) {
        let conf = try RdKafkaConfig.make(properties)
        let box = Unmanaged.passRetained(CallbackBox(handler: handler))
        rd_kafka_conf_set_opaque(conf, box.toOpaque())
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        rd_kafka_conf_set_log_cb(conf, logCallback)
        if type == RD_KAFKA_PRODUCER {
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        } else {
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        let (created, text) = CString.withErrorBuffer { rd_kafka_new(type, conf, $0, $1) }
        guard let created else {
            rd_kafka_conf_destroy(conf)
            box.release()
            throw KafkaError(code: .clientCreation, message: "librdkafka could not create the client: \(text)")
        }
        self.pointer = created
        self.box = box
        self.isConsumer = type == RD_KAFKA_CONSUMER
    }

    deinit {
        rd_kafka_destroy(pointer)
        box.release()
    }
}
