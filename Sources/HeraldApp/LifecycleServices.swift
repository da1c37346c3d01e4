import Foundation
import HeraldCore
import HeraldWorker
import Logging
import ServiceLifecycle
import UnixSignals

/// Sends `WATCHDOG=1` at half of systemd's `WatchdogSec` while the daemon runs.
struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                notifier.notify("WATCHDOG=1")
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// The last service of the group: announces `READY=1` once everything before it started, and `STOPPING=1`
/// first thing on shutdown (services stop in reverse order).
struct ReadinessService: Service {
    let notifier: SystemdNotifier
    let logger: Logger
    let status: String
    /// The API's listener, when there is one: `READY=1` waits until it is bound.
    var listener: ListenerGate?

    func run() async throws {
        if let listener {
            await cancelWhenGracefulShutdown { await listener.wait() }
            guard listener.boundAddress != nil else { return }
        }
        notifier.notify("READY=1\nSTATUS=\(status)")
        logger.info("herald ready", metadata: ["status": "\(status)"])
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1\nSTATUS=stopping")
        logger.info("herald stopping")
    }
}

/// Every minute: a stats line (throughput, queue depth, oldest due); every hour: retention pruning.
struct MaintenanceService: Service {
    let store: any Store
    let counters: WorkerCounters
    let retention: Retention
    let logger: Logger
    let clock: any WallClock
    var statsInterval: Duration = .seconds(60)
    var pruneEvery = 60

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await loop()
            }
        } catch is CancellationError {
            // Graceful shutdown cancels the sleep between rounds.
        }
    }

    private func loop() async throws {
        var previousDelivered = counters.delivered.load(ordering: .relaxed)
        var previousEvents = counters.eventsFannedOut.load(ordering: .relaxed)
        var rounds = 0
        while !Task.isCancelled {
            try await Task.sleep(for: statsInterval)
            rounds += 1
            let delivered = counters.delivered.load(ordering: .relaxed)
            let events = counters.eventsFannedOut.load(ordering: .relaxed)
            let seconds = Double(statsInterval.components.seconds)
            var metadata: Logger.Metadata = [
                "events_per_s": "\(Self.rate(events - previousEvents, seconds))",
                "delivered_per_s": "\(Self.rate(delivered - previousDelivered, seconds))",
                "retries": "\(counters.retried.load(ordering: .relaxed))",
                "dead": "\(counters.dead.load(ordering: .relaxed))",
                "lost_leases": "\(counters.lostLeases.load(ordering: .relaxed))",
            ]
            previousDelivered = delivered
            previousEvents = events
            if let status = try? await store.status(now: clock.now()) {
                metadata["queue.pending"] = "\(status.deliveries[.pending] ?? 0)"
                metadata["queue.retrying"] = "\(status.deliveries[.retrying] ?? 0)"
                metadata["queue.leased"] = "\(status.deliveries[.leased] ?? 0)"
                metadata["events.waiting"] = "\(status.events[.accepted] ?? 0)"
                metadata["oldest_due"] = "\(status.oldestDue.map(Timestamp.format) ?? "none")"
            }
            logger.info("stats", metadata: metadata)
            if rounds % pruneEvery == 0 {
                do {
                    let pruned = try await store.prune(now: clock.now(), retention: retention)
                    logger.info(
                        "retention pruned",
                        metadata: ["deliveries": "\(pruned.deliveries)", "events": "\(pruned.events)"]
                    )
                } catch {
                    logger.error("retention pruning failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    static func rate(_ count: Int, _ seconds: Double) -> String {
        String(format: "%.1f", Double(count) / max(seconds, 1))
    }
}

/// Reloads notifiers, catalog and log level on SIGHUP; an invalid file is refused and the old one stays.
struct ReloadService: Service {
    let path: String
    let reloader: ConfigurationReloader

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                reloader.reload(path: path)
            }
        }
    }
}
