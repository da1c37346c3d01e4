import Foundation
import HeraldCore
import HeraldWorker
import Metrics
import Prometheus

/// Everything `/metrics` shows for one daemon: a `PrometheusCollectorRegistry` owned by the composition root,
/// the worker's handles recorded into it, the queue gauges refreshed from `store.status` every few seconds, and
/// the gauges read at scrape time (destinations from the send stage's gates, the process from `/proc`).
///
/// Tests build as many as they like; only `herald serve` also makes the registry the process-wide
/// `MetricsSystem` backend (for what libraries record through swift-metrics, e.g. the API's middleware).
public final class DaemonMetrics: Sendable {
    /// The registry rendered by `render`.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over `registry`, with help texts and buckets.
    public let factory: HeraldMetricsFactory
    /// The handles the stages record into.
    public let worker: WorkerMetrics
    private let queueDepth: [(DeliveryState, Prometheus.Gauge)]
    private let oldestDue: Prometheus.Gauge
    private let paused: Prometheus.Gauge
    private let open: Prometheus.Gauge
    private let broken: Prometheus.Gauge
    private let process: ProcessMetrics

    /// The delivery states shown in `herald_queue_depth`.
    public static let queueStates: [DeliveryState] = [.pending, .leased, .retrying, .dead]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = HeraldMetricsFactory(registry: registry)
        self.factory = factory
        worker = WorkerMetrics(factory: factory)
        func gauge(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: HeraldMetricsFactory.descriptor(name), labels: labels)
        }
        queueDepth = Self.queueStates.map { ($0, gauge(MetricDescriptions.queueDepth, [("state", $0.rawValue)])) }
        oldestDue = gauge(MetricDescriptions.oldestDue)
        paused = gauge(MetricDescriptions.destinations, [("state", "paused")])
        open = gauge(MetricDescriptions.destinations, [("state", "open")])
        broken = gauge(MetricDescriptions.destinations, [("state", "broken")])
        gauge(MetricDescriptions.buildInfo, [("version", HeraldVersion.current)]).set(to: 1)
        process = ProcessMetrics(registry: registry)
    }

    /// Reads the queue gauges from `store.status` (the `QueueGaugeService` does it periodically, so a scrape
    /// never waits for the store); a failing store leaves the last values.
    public func refreshQueue(store: any Store, now: Date) async {
        guard let status = try? await store.status(now: now) else { return }
        for (state, gauge) in queueDepth {
            gauge.set(to: Double(status.deliveries[state] ?? 0))
        }
        oldestDue.set(to: status.oldestDue.map { max(0, now.timeIntervalSince($0)) } ?? 0)
    }

    /// Refreshes the destination and process gauges and returns the Prometheus text exposition (format 0.0.4).
    public func render(destinations: DestinationCensus) -> String {
        paused.set(to: Double(destinations.paused))
        open.set(to: Double(destinations.open))
        broken.set(to: Double(destinations.broken))
        process.refresh()
        return registry.emitToString()
    }

    /// The `Content-Type` of the exposition.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
