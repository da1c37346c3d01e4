import Foundation
import HeraldCore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Tunables of the fan-out stage.
public struct FanOutConfiguration: Sendable {
    /// Events claimed per batch.
    public var batchSize: Int
    /// How long a claimed event stays ours before another worker may take it.
    public var leaseDuration: TimeInterval
    /// How often to look for new events when idle (events may arrive from another process).
    public var idlePoll: Duration

    /// Events planned and stored per transaction within a claimed batch.
    public var chunkSize: Int

    public init(
        batchSize: Int = 256,
        leaseDuration: TimeInterval = 60,
        idlePoll: Duration = .milliseconds(2),
        chunkSize: Int = 32
    ) {
        self.batchSize = batchSize
        self.chunkSize = chunkSize
        self.leaseDuration = leaseDuration
        self.idlePoll = idlePoll
    }
}

/// Claims accepted events, resolves and renders their deliveries, and stores them with the event marked
/// fanned out in one transaction.
public final class FanOutStage: Service, Sendable {
    private let store: any Store
    private let planner: Mutex<FanOutPlanner>
    private let clock: any WallClock
    private let configuration: FanOutConfiguration
    private let logger: Logger
    /// Rung by intake in this process when events arrive.
    public let doorbell: Doorbell
    /// Rung after deliveries were stored.
    private let sendDoorbell: Doorbell
    private let counters: WorkerCounters

    public init(
        store: any Store,
        planner: FanOutPlanner,
        clock: any WallClock = SystemWallClock(),
        configuration: FanOutConfiguration = FanOutConfiguration(),
        logger: Logger,
        doorbell: Doorbell = Doorbell(),
        sendDoorbell: Doorbell,
        counters: WorkerCounters
    ) {
        self.store = store
        self.planner = Mutex(planner)
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.doorbell = doorbell
        self.sendDoorbell = sendDoorbell
        self.counters = counters
    }

    /// Replaces the planner (configuration reload: notifiers, catalog).
    public func replacePlanner(_ planner: FanOutPlanner) {
        self.planner.withLock { $0 = planner }
    }

    public func run() async throws {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            while !stopping.isSet && !Task.isCancelled {
                let worked: Bool
                do {
                    worked = try await runOnce()
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("fan-out failed; will retry", metadata: ["error": "\(error)"])
                    worked = false
                    try? await Task.sleep(for: .milliseconds(250))
                }
                if !worked {
                    await doorbell.wait(timeout: configuration.idlePoll)
                }
            }
        } onGracefulShutdown: {
            stopping.set()
            self.doorbell.ring()
        }
        logger.debug("fan-out stage stopped")
    }

    /// Fans out one batch; returns whether there was anything to do.
    @discardableResult
    public func runOnce() async throws -> Bool {
        let now = clock.now()
        guard try await store.hasClaimableEvents(now: now) else { return false }
        let claimed = try await store.claimEvents(
            limit: configuration.batchSize,
            now: now,
            leaseUntil: now.addingTimeInterval(configuration.leaseDuration)
        )
        guard !claimed.isEmpty else { return false }
        let planner = self.planner.withLock { $0 }
        try await planner.audience.refresh(from: store)
        // Written in chunks: the sends start after the first chunk rather than after the whole batch, and only
        // one chunk's rendered payloads are held at a time (W5: 40 emails per event).
        var start = claimed.startIndex
        while start < claimed.endIndex {
            let end = min(claimed.endIndex, start + max(1, configuration.chunkSize))
            try await fanOut(claimed[start..<end], with: planner)
            start = end
        }
        return true
    }

    /// Plans one chunk of claimed events, stores the results in one transaction and wakes the send stage.
    private func fanOut(_ chunk: ArraySlice<ClaimedEvent>, with planner: FanOutPlanner) async throws {
        let planned = await Self.plan(chunk.map(\.event), with: planner)
        var results: [FanOutResult] = []
        results.reserveCapacity(chunk.count)
        for (item, (result, problems, truncations)) in zip(chunk, planned) {
            for problem in problems {
                logger.warning(
                    "render failed",
                    metadata: ["event.id": "\(item.event.id)", "error": "\(problem)"]
                )
            }
            for truncation in truncations {
                let detail = truncation.detail
                if detail.hasPrefix(RenderedMessage.templateFailurePrefix) {
                    logger.warning(
                        "template fallback",
                        metadata: [
                            "event.id": "\(item.event.id)",
                            "template": "\(detail.dropFirst(RenderedMessage.templateFailurePrefix.count))",
                        ]
                    )
                } else {
                    counters.metrics.truncated(truncation.channel)
                    logger.warning(
                        "payload truncated",
                        metadata: [
                            "event.id": "\(item.event.id)", "channel": "\(truncation.channel.rawValue)",
                            "detail": "\(detail)",
                        ]
                    )
                }
            }
            results.append(result)
        }
        try await store.completeFanOut(results, now: clock.now())
        sendDoorbell.ring()
        var deliveries = 0
        for (item, result) in zip(chunk, results) {
            deliveries += result.deliveries.count
            logger.info(
                "event fanned out",
                metadata: [
                    "event.id": "\(item.event.id)", "key": "\(item.event.key)",
                    "deliveries": "\(result.deliveries.count)",
                    "suppressed": "\(result.suppressions.count + result.cuts.reduce(0) { $0 + $1.userIds.count })",
                ]
            )
        }
        counters.metrics.fannedOut(results, keys: chunk.map(\.event.key), catalog: planner.catalog)
        counters.eventsFannedOut.add(chunk.count, ordering: .relaxed)
        counters.deliveriesCreated.add(deliveries, ordering: .relaxed)
    }
}

extension FanOutStage {
    /// What the planner made of each event, in the events' order.
    typealias Planned = (result: FanOutResult, problems: [String], truncations: [RenderNote])

    /// Below this many events a batch is planned on one core (splitting would cost more than it saves).
    static let parallelThreshold = 8

    /// Plans the events on two cores: events about the same issue stay in one lane, in their order, because
    /// each sees the implicit subscriptions of those before it; events of different issues (or none) cannot
    /// affect each other's plans.
    static func plan(_ events: [Event], with planner: FanOutPlanner) async -> [Planned] {
        guard events.count >= parallelThreshold else { return events.map { planner.plan($0) } }
        let lanes = lanes(of: events, count: 2)
        var planned = [Planned?](repeating: nil, count: events.count)
        await withTaskGroup(of: [(Int, Planned)].self) { group in
            for lane in lanes where !lane.isEmpty {
                group.addTask { lane.map { ($0, planner.plan(events[$0])) } }
            }
            for await lanePlans in group {
                for (index, plan) in lanePlans { planned[index] = plan }
            }
        }
        return planned.map { $0! }
    }

    /// The events' indices split into `count` lanes, in order, with all events of one issue in the same lane.
    static func lanes(of events: [Event], count: Int) -> [[Int]] {
        var lanes = [[Int]](repeating: [], count: count)
        var laneOfIssue: [String: Int] = [:]
        var sizes = [Int](repeating: 0, count: count)
        for (index, event) in events.enumerated() {
            let lane: Int
            if let issue = event.issue {
                let key = "\(event.organization)\u{0}\(event.project ?? "")\u{0}\(issue.id)"
                if let known = laneOfIssue[key] {
                    lane = known
                } else {
                    lane = sizes.indices.min { sizes[$0] < sizes[$1] } ?? 0
                    laneOfIssue[key] = lane
                }
            } else {
                lane = sizes.indices.min { sizes[$0] < sizes[$1] } ?? 0
            }
            lanes[lane].append(index)
            sizes[lane] += 1
        }
        return lanes
    }
}

/// Running totals shared by the stages, for the periodic stats line and metrics.
public final class WorkerCounters: Sendable {
    public let eventsFannedOut = Atomic<Int>(0)
    public let deliveriesCreated = Atomic<Int>(0)
    public let delivered = Atomic<Int>(0)
    public let retried = Atomic<Int>(0)
    public let dead = Atomic<Int>(0)
    public let deferred = Atomic<Int>(0)
    public let attempts = Atomic<Int>(0)
    /// Outcomes the store refused because the lease had been re-claimed by another worker (the fence).
    public let lostLeases = Atomic<Int>(0)
    /// The Prometheus-facing handles (no-op unless the composition root passes real ones).
    public let metrics: WorkerMetrics

    public init(metrics: WorkerMetrics = WorkerMetrics(factory: NOOPMetricsHandler.instance)) {
        self.metrics = metrics
    }
}
