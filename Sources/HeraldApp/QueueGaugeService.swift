import Foundation
import HeraldCore
import ServiceLifecycle

/// Refreshes `herald_queue_depth` and `herald_oldest_due_seconds` from `store.status` at start and then every
/// `interval`, so `/metrics` renders without touching the store (the count is a scan; a scrape storm must not
/// become a store storm).
struct QueueGaugeService: Service {
    let metrics: DaemonMetrics
    let store: any Store
    let clock: any WallClock
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await metrics.refreshQueue(store: store, now: clock.now())
                try? await Task.sleep(for: interval)
            }
        }
    }
}
