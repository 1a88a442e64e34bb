#ifndef SLUICE_CRDKAFKA_SHIM_H
#define SLUICE_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* rd_kafka_producev is variadic and cannot be called from Swift; this one
 * non-variadic entry point covers every field Sluice sets. The topic is named
 * by a handle from rd_kafka_topic_new (no lookup by name per message). On
 * success librdkafka owns `headers`; on failure the caller still owns them. */
static inline rd_kafka_resp_err_t sluice_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t partition,
                                                 const void *key, size_t key_len,
                                                 const void *value, size_t value_len,
                                                 rd_kafka_headers_t *headers, int64_t timestamp_ms,
                                                 void *opaque) {
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_RKT(rkt),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_HEADERS(headers),
                             RD_KAFKA_V_TIMESTAMP(timestamp_ms),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}

/* Push a single error onto the mock cluster's stack for `api_key` (the
 * variadic rd_kafka_mock_push_request_errors is not callable from Swift). */
static inline void sluice_mock_push_request_errors(rd_kafka_mock_cluster_t *mcluster, int16_t api_key,
                                                   size_t count, rd_kafka_resp_err_t err) {
    for (size_t i = 0; i < count; i++) {
        rd_kafka_mock_push_request_errors_array(mcluster, api_key, 1, &err);
    }
}
#endif
