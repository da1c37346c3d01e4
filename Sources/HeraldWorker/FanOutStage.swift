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
    /// Rendered payload bytes a chunk of a claimed batch holds before it is stored (one transaction): a batch of
    /// small messages is stored at once, one of large emails in several chunks, so memory stays bounded.
    public var chunkBytes: Int
    /// Events planned at once (on both cores) at most; fewer when their payloads would overshoot `chunkBytes`.
    public var planGroup: Int

    public init(
        batchSize: Int = 256,
        leaseDuration: TimeInterval = 60,
        idlePoll: Duration = .milliseconds(2),
        chunkBytes: Int = 512 * 1024,
        planGroup: Int = 64
    ) {
        self.batchSize = batchSize
        self.leaseDuration = leaseDuration
        self.idlePoll = idlePoll
        self.chunkBytes = max(1, chunkBytes)
        self.planGroup = max(1, planGroup)
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
            // In a burst the stage works on three batches at once: the next one is claimed ahead, this one is
            // planned, and the last chunk of the previous one is still being written.
            let writer = ChunkWriter()
            var ahead: Task<[ClaimedEvent], any Error>?
            // A batch claimed ahead is fanned out before stopping, so shutdown leaves no event leased.
            while ahead != nil || (!stopping.isSet && !Task.isCancelled) {
                var worked = false
                do {
                    let claimed: [ClaimedEvent]
                    if let next = ahead {
                        ahead = nil
                        claimed = try await next.value
                    } else {
                        claimed = try await claim()
                    }
                    if claimed.count >= configuration.batchSize && !stopping.isSet {
                        ahead = Task { try await self.claim() }
                    }
                    worked = !claimed.isEmpty
                    if worked {
                        try await fanOut(claimed, writer: writer)
                    } else {
                        try await writer.finish()
                    }
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("fan-out failed; will retry", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(250))
                }
                if !worked && ahead == nil && !stopping.isSet {
                    await doorbell.wait(timeout: configuration.idlePoll)
                }
            }
            try? await writer.finish()
        } onGracefulShutdown: {
            stopping.set()
            self.doorbell.ring()
        }
        logger.debug("fan-out stage stopped")
    }

    /// Fans out one batch and stores all of it; returns whether there was anything to do.
    @discardableResult
    public func runOnce() async throws -> Bool {
        let claimed = try await claim()
        guard !claimed.isEmpty else { return false }
        let writer = ChunkWriter()
        try await fanOut(claimed, writer: writer)
        try await writer.finish()
        return true
    }

    /// Claims up to one batch of due events (none, without a write, when nothing is due).
    private func claim() async throws -> [ClaimedEvent] {
        let now = clock.now()
        guard try await store.hasClaimableEvents(now: now) else { return [] }
        return try await store.claimEvents(
            limit: configuration.batchSize,
            now: now,
            leaseUntil: now.addingTimeInterval(configuration.leaseDuration)
        )
    }

    /// Plans a claimed batch, handing its chunks to `writer`; the last chunk may still be being written when
    /// this returns.
    ///
    /// Planning and storing overlap: while one chunk is written (on the store's writer), the next is planned (on
    /// the cooperative pool). Chunks are written one at a time and in order, so at most two chunks of rendered
    /// payloads are held, and an event's implicit subscriptions reach the store before a later chunk's.
    private func fanOut(_ claimed: [ClaimedEvent], writer: ChunkWriter) async throws {
        let planner = self.planner.withLock { $0 }
        // A reload of the directory reads the store, which must hold the implicit subscriptions planned so far.
        try await writer.finishSubscriptionChanges()
        try await planner.audience.refresh(from: store)
        var chunk: [PlannedEvent] = []
        var chunkBytes = 0
        var groupSize = min(configuration.planGroup, Self.firstPlanGroup)
        var start = claimed.startIndex
        while start < claimed.endIndex {
            let end = min(claimed.endIndex, start + groupSize)
            let group = claimed[start..<end]
            let planned = await Self.plan(group.map(\.event), with: planner)
            var groupBytes = 0
            for (item, plan) in zip(group, planned) {
                groupBytes += plan.result.deliveries.reduce(0) { $0 + $1.payload.count }
                chunk.append(PlannedEvent(item: item, plan: plan))
            }
            chunkBytes += groupBytes
            start = end
            if chunkBytes >= configuration.chunkBytes || start == claimed.endIndex {
                let full = chunk
                let subscribes = full.contains { !$0.plan.result.subscriptionChanges.isEmpty }
                try await writer.submit(changingSubscriptions: subscribes) {
                    try await self.write(full, planner: planner)
                }
                chunk = []
                chunk.reserveCapacity(full.count)
                chunkBytes = 0
            }
            // The next group is sized by this one's payloads, so it does not overshoot the chunk much (W5: dozens
            // of emails an event), but stays large enough for both lanes.
            let perEvent = max(1, groupBytes / max(1, group.count))
            let room = max(0, configuration.chunkBytes - chunkBytes) / perEvent
            groupSize = min(configuration.planGroup, max(Self.laneCount, room))
        }
    }

    /// Events planned in the first group of a batch, before their payload sizes are known.
    static let firstPlanGroup = 8
    /// Lanes the planning of a group is spread over (the machine's two cores).
    static let laneCount = 2

    /// Stores one chunk of planned events in one transaction, wakes the send stage and counts them. Problems
    /// and truncations are logged and counted only once the chunk is stored.
    private func write(_ chunk: [PlannedEvent], planner: FanOutPlanner) async throws {
        let results = chunk.map(\.plan.result)
        try await store.completeFanOut(results, now: clock.now())
        sendDoorbell.ring()
        var deliveries = 0
        for planned in chunk {
            let item = planned.item
            let (result, problems, truncations) = planned.plan
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
        counters.metrics.fannedOut(results, keys: chunk.map(\.item.event.key), catalog: planner.catalog)
        counters.eventsFannedOut.add(chunk.count, ordering: .relaxed)
        counters.deliveriesCreated.add(deliveries, ordering: .relaxed)
    }
}

extension FanOutStage {
    /// What the planner made of each event, in the events' order.
    typealias Planned = (result: FanOutResult, problems: [String], truncations: [RenderNote])

    /// A claimed event with its plan, waiting to be stored.
    struct PlannedEvent: Sendable {
        var item: ClaimedEvent
        var plan: Planned
    }

    /// Runs the chunk writes of the fan-out one at a time, in order, each overlapping the planning of the next.
    final class ChunkWriter: Sendable {
        private struct Write {
            var task: Task<Void, any Error>
            var changesSubscriptions: Bool
        }

        private let inFlight = Mutex<Write?>(nil)

        /// Waits for the write in flight (rethrowing its error), then starts `write`.
        func submit(
            changingSubscriptions: Bool,
            _ write: @escaping @Sendable () async throws -> Void
        ) async throws {
            try await finish()
            let task = Task { try await write() }
            inFlight.withLock { $0 = Write(task: task, changesSubscriptions: changingSubscriptions) }
        }

        /// Waits for the write in flight; rethrows its error.
        func finish() async throws {
            guard let write = inFlight.withLock({ $0.take() }) else { return }
            try await write.task.value
        }

        /// Waits for the write in flight if it stores implicit subscription changes.
        func finishSubscriptionChanges() async throws {
            guard inFlight.withLock({ $0?.changesSubscriptions ?? false }) else { return }
            try await finish()
        }
    }

    /// Below this many events a batch is planned on one core (splitting would cost more than it saves).
    static let parallelThreshold = 8

    /// Plans the events on two cores: events about the same issue stay in one lane, in their order, because
    /// each sees the implicit subscriptions of those before it; events of different issues (or none) cannot
    /// affect each other's plans.
    static func plan(_ events: [Event], with planner: FanOutPlanner) async -> [Planned] {
        guard events.count >= parallelThreshold else { return events.map { planner.plan($0) } }
        let lanes = lanes(of: events, count: Self.laneCount)
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
