import CRdKafka

/// An error from the Kafka layer: what went wrong, in words a person can act on, plus librdkafka's own code.
package struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The broad class of the failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        package var description: String { name }

        /// A configuration property was unknown or had an invalid value.
        package static let configuration = Code("configuration")
        /// librdkafka refused to create a client.
        package static let clientCreation = Code("clientCreation")
        /// A message could not be produced (queue full, too large, unknown topic, …).
        package static let produce = Code("produce")
        /// Kafka did not acknowledge a message (timeout, broker error, fatal idempotence error).
        package static let delivery = Code("delivery")
        /// A consumer operation (subscribe, commit, seek, assignment) failed.
        package static let consumer = Code("consumer")
        /// An admin or metadata request failed.
        package static let admin = Code("admin")
        /// An operation did not finish within its deadline.
        package static let timeout = Code("timeout")
        /// The client was used after `close()`.
        package static let closed = Code("closed")
        /// The dev cluster (librdkafka's mock cluster) failed.
        package static let devCluster = Code("devCluster")
        /// A client-wide error reported by librdkafka (brokers down, authentication, fatal).
        package static let client = Code("client")
    }

    package var code: Code
    package var message: String
    /// librdkafka's `rd_kafka_resp_err_t` value, when there is one.
    package var rdkafkaCode: Int32?
    /// librdkafka's short name of `rdkafkaCode`, e.g. `_MSG_TIMED_OUT`.
    package var rdkafkaName: String?

    package init(code: Code, message: String, rdkafkaCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.rdkafkaCode = rdkafkaCode
        if let rdkafkaCode {
            self.rdkafkaName = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rdkafkaCode)))
        }
    }

    /// Builds an error from librdkafka's response code, with `context` saying what was being done.
    package init(code: Code, _ err: rd_kafka_resp_err_t, context: String) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(code: code, message: "\(context): \(text)", rdkafkaCode: err.rawValue)
    }

    package var description: String {
        if let rdkafkaName { return "KafkaError.\(code) [\(rdkafkaName)]: \(message)" }
        return "KafkaError.\(code): \(message)"
    }

    /// Whether retrying the same operation later may succeed.
    package var isRetriable: Bool {
        guard let rdkafkaCode else { return code == .timeout }
        switch rd_kafka_resp_err_t(rdkafkaCode) {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
             RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
             RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
             RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
             RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
             RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
            return true
        default:
            return false
        }
    }
}
