import Foundation
import HeraldCore
import HeraldWorker
import Metrics
import Prometheus
import Synchronization

/// Everything `/metrics` shows for one daemon: a `PrometheusCollectorRegistry` owned by the composition root,
/// the worker's handles recorded into it, and the gauges read at scrape time (queue from `store.status`,
/// destinations from the send stage's gates, the process from `/proc`).
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
    /// The store is asked at most this often (a scrape storm must not become a store storm).
    let storeRefreshInterval: TimeInterval
    private let queueDepth: [(DeliveryState, Prometheus.Gauge)]
    private let oldestDue: Prometheus.Gauge
    private let paused: Prometheus.Gauge
    private let open: Prometheus.Gauge
    private let broken: Prometheus.Gauge
    private let process: ProcessMetrics
    private let lastStoreRefresh = Mutex<Date?>(nil)

    /// The delivery states shown in `herald_queue_depth`.
    public static let queueStates: [DeliveryState] = [.pending, .leased, .retrying, .dead]

    public init(
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        storeRefreshInterval: TimeInterval = 1
    ) {
        self.registry = registry
        self.storeRefreshInterval = storeRefreshInterval
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

    /// Refreshes the gauges and returns the Prometheus text exposition (format 0.0.4).
    public func render(store: any Store, destinations: DestinationCensus, now: Date) async -> String {
        paused.set(to: Double(destinations.paused))
        open.set(to: Double(destinations.open))
        broken.set(to: Double(destinations.broken))
        process.refresh()
        let due = lastStoreRefresh.withLock { last -> Bool in
            guard last.map({ now.timeIntervalSince($0) < storeRefreshInterval }) != true else { return false }
            last = now
            return true
        }
        if due, let status = try? await store.status(now: now) {
            for (state, gauge) in queueDepth {
                gauge.set(to: Double(status.deliveries[state] ?? 0))
            }
            oldestDue.set(to: status.oldestDue.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        }
        return registry.emitToString()
    }

    /// The `Content-Type` of the exposition.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
