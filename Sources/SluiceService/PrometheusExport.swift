import Metrics
import Prometheus
import SluiceWorker

/// The process's metrics backend: swift-metrics bootstrapped once with swift-prometheus, rendered as Prometheus
/// text by `GET /metrics`.
package enum PrometheusExport {
    /// Bootstraps `MetricsSystem` on first use (once per process; later calls return the same registry).
    package static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latencies from 0.5 ms (scoring one micro-batch) to 30 s (a commit retried while PostgreSQL restarts).
        let latency: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                   .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                   .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30)]
        factory.defaultDurationHistogramBuckets = latency
        factory.valueHistogramBuckets[WorkerMetrics.Name.microBatchEvents] = [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Bootstraps the metrics system now, before the components that report to it are made.
    package static func bootstrap() {
        _ = registry
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    package static func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        registry.emit(into: &buffer)
        return buffer
    }
}
