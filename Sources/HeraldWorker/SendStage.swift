import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
import Synchronization

/// Tunables of the send stage.
public struct SendConfiguration: Sendable {
    /// Transfers in flight at most.
    public var concurrency: Int
    /// Deliveries claimed per batch at most.
    public var batchSize: Int
    /// How long a claimed delivery stays ours; a crash returns it to the queue after this.
    public var leaseDuration: TimeInterval
    /// The longest idle sleep; the stage wakes earlier for the next due delivery or when rung.
    public var idlePoll: Duration
    /// How often outcomes are written when few are waiting.
    public var flushInterval: Duration
    /// How many outcomes trigger a write at once.
    public var flushBatch: Int
    /// How long shutdown waits for transfers in flight.
    public var shutdownDeadline: Duration
    public var retryPolicy: RetryPolicy
    /// Consecutive retryable failures that open a destination's circuit.
    public var breakerThreshold: Int
    /// How long an open circuit waits before a probe.
    public var breakerCooldown: TimeInterval

    public init(
        concurrency: Int = 256,
        batchSize: Int = 256,
        leaseDuration: TimeInterval = 60,
        idlePoll: Duration = .seconds(1),
        flushInterval: Duration = .milliseconds(2),
        flushBatch: Int = 512,
        shutdownDeadline: Duration = .seconds(10),
        retryPolicy: RetryPolicy = RetryPolicy(),
        breakerThreshold: Int = 5,
        breakerCooldown: TimeInterval = 30
    ) {
        self.concurrency = max(1, concurrency)
        self.batchSize = max(1, batchSize)
        self.leaseDuration = leaseDuration
        self.idlePoll = idlePoll
        self.flushInterval = flushInterval
        self.flushBatch = flushBatch
        self.shutdownDeadline = shutdownDeadline
        self.retryPolicy = retryPolicy
        self.breakerThreshold = breakerThreshold
        self.breakerCooldown = breakerCooldown
    }
}

/// Claims due deliveries, paces them per destination, sends them through the transports with many in flight,
/// classifies each result and records outcomes in batches.
public final class SendStage: Service, Sendable {
    private let store: any Store
    private let providers: Mutex<ProviderSet>
    private let http: any HTTPTransport
    private let mail: (any MailTransport)?
    private let clock: any WallClock
    private let configuration: SendConfiguration
    private let logger: Logger
    private let counters: WorkerCounters
    private let random: @Sendable () -> Double
    /// Rung when deliveries may be due (fan-out stored some, a slot freed up).
    public let doorbell: Doorbell
    private let flushDoorbell = Doorbell()
    private let gate: Mutex<DestinationGate>
    /// Deliveries being sent, with the lease each was claimed under.
    private let inflight = Mutex<[Int64: Lease]>([:])
    private let abandoned = StopFlag()
    private let updates = Mutex<[DeliveryUpdate]>([])
    /// When the pauses shared through the store were last read.
    private let pausesReadAt = Mutex<Date>(.distantPast)

    public init(
        store: any Store,
        providers: ProviderSet,
        http: any HTTPTransport,
        mail: (any MailTransport)? = nil,
        clock: any WallClock = SystemWallClock(),
        configuration: SendConfiguration = SendConfiguration(),
        logger: Logger,
        doorbell: Doorbell = Doorbell(),
        counters: WorkerCounters,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.store = store
        self.providers = Mutex(providers)
        self.http = http
        self.mail = mail
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.doorbell = doorbell
        self.counters = counters
        self.random = random
        self.gate = Mutex(
            DestinationGate(
                breakerThreshold: configuration.breakerThreshold,
                breakerCooldown: configuration.breakerCooldown
            )
        )
    }

    /// Replaces the notifiers (configuration reload); deliveries in flight finish with the old ones.
    public func replaceProviders(_ providers: ProviderSet) {
        self.providers.withLock { $0 = providers }
    }

    /// Destinations that keep failing with configuration errors, as (notifier id, redacted label).
    public var brokenDestinations: [(notifier: Int, label: String)] {
        gate.withLock { $0.brokenDestinations }
    }

    /// How many destinations are paused by `Retry-After`, have an open circuit, or are broken, now.
    public func destinationCensus() -> DestinationCensus {
        let now = clock.now()
        return gate.withLock { $0.census(now: now) }
    }

    /// Transfers in flight now.
    public var inflightCount: Int { inflight.withLock { $0.count } }

    public func run() async throws {
        let stopping = StopFlag()
        let recorderDone = StopFlag()
        async let recorder: Void = runRecorder(until: recorderDone)
        await withGracefulShutdownHandler {
            await claimLoop(stopping: stopping)
        } onGracefulShutdown: {
            stopping.set()
            self.doorbell.ring()
        }
        await drain()
        recorderDone.set()
        flushDoorbell.ring()
        await recorder
        logger.debug("send stage stopped")
    }

    private func claimLoop(stopping: StopFlag) async {
        var lastCompaction = clock.now()
        let threshold = max(1, min(configuration.batchSize, configuration.concurrency / 4))
        while !stopping.isSet && !Task.isCancelled {
            let free = configuration.concurrency - inflightCount
            let canClaim = free >= threshold || free == configuration.concurrency
            var claimedAny = false
            if canClaim {
                do {
                    claimedAny = try await claimAndDispatch(limit: min(free, configuration.batchSize))
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("claiming deliveries failed; will retry", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
            let now = clock.now()
            if now.timeIntervalSince(lastCompaction) > 10 {
                gate.withLock { $0.compact(now: now) }
                lastCompaction = now
            }
            guard !claimedAny else { continue }
            // Idle: sleep until the next delivery comes due (a retry, a deferred turn), or until rung by
            // fan-out, a freed slot or a write by another process.
            var timeout = configuration.idlePoll
            if canClaim, let due = try? await store.nextDeliveryDue() {
                let milliseconds = Int64((due.timeIntervalSince(clock.now()) * 1000).rounded(.up))
                timeout = min(timeout, .milliseconds(max(1, milliseconds)))
            }
            await doorbell.wait(timeout: timeout)
        }
    }

    /// Claims one batch and dispatches it; returns whether anything was claimed.
    @discardableResult
    public func claimAndDispatch(limit: Int) async throws -> Bool {
        await refreshSharedPauses()
        let now = clock.now()
        let claimed = try await store.claimDeliveries(
            limit: limit,
            now: now,
            leaseUntil: now.addingTimeInterval(configuration.leaseDuration)
        )
        for delivery in claimed {
            dispatch(delivery)
        }
        return !claimed.isEmpty
    }

    /// Reads the destination pauses other workers recorded in the store (SPEC §13 rule 5), at most once a second.
    private func refreshSharedPauses() async {
        let now = clock.now()
        let due = pausesReadAt.withLock { last -> Bool in
            guard abs(now.timeIntervalSince(last)) >= 1 else { return false }
            last = now
            return true
        }
        guard due, let pauses = try? await store.destinationPauses(now: now) else { return }
        var shared: [DestinationGate.Key: Date] = [:]
        for pause in pauses {
            shared[DestinationGate.Key(notifier: pause.notifierId, destination: pause.destination)] = pause.until
        }
        gate.withLock { $0.adoptSharedPauses(shared) }
    }

    private func dispatch(_ delivery: Delivery) {
        let now = clock.now()
        guard let provider = providers.withLock({ $0.provider(id: delivery.notifierId) }) else {
            let error = DeliveryError.permanent(
                .configuration,
                "notifier \(delivery.notifierId) is no longer configured"
            )
            finish(delivery, outcome: .failed(error), startedAt: now, provider: nil)
            return
        }
        let destination = provider.destination(for: delivery.recipient)
        let key = DestinationGate.Key(notifier: delivery.notifierId, destination: delivery.destination)
        let admission = gate.withLock {
            $0.admit(
                id: delivery.id,
                key: key,
                label: destination.label,
                limit: provider.notifier.rateLimit,
                now: now
            )
        }
        if case .wait(let until, let because) = admission {
            // A pause from Retry-After gets up to 1 s of jitter so the waiters do not return all at once.
            let due = because == .paused ? until.addingTimeInterval(random()) : until
            counters.deferred.add(1, ordering: .relaxed)
            enqueue(.deferred(id: delivery.id, lease: delivery.heldLease, until: due))
            return
        }
        let request: OutboundRequest
        do {
            request = try provider.request(for: delivery)
        } catch {
            finish(delivery, outcome: .failed(error), startedAt: now, provider: provider)
            return
        }
        inflight.withLock { $0[delivery.id] = delivery.heldLease }
        counters.attempts.add(1, ordering: .relaxed)
        counters.metrics.attemptStarted(delivery.channel)
        let http = self.http
        let mail = self.mail
        Task {
            let result: AttemptResult
            switch request {
            case .http(var httpRequest):
                httpRequest.headers.append(HTTPHeader("User-Agent", HeraldVersion.userAgent))
                httpRequest.headers.append(HTTPHeader("X-Herald-Event-Id", delivery.eventId))
                httpRequest.headers.append(HTTPHeader("X-Herald-Delivery-Id", String(delivery.id)))
                result = .http(await http.send(httpRequest))
            case .mail(let message):
                if let mail {
                    result = .mail(await mail.send(message))
                } else {
                    result = .mail(
                        .failure(
                            TransportFailure(
                                kind: .configuration,
                                code: 0,
                                requestSent: false,
                                message: "no mail transport configured"
                            )
                        )
                    )
                }
            }
            let outcome = provider.classify(result, for: delivery, now: self.clock.now())
            self.finish(delivery, outcome: outcome, startedAt: now, provider: provider)
        }
    }

    private func finish(_ delivery: Delivery, outcome: DeliveryOutcome, startedAt: Date, provider: (any Provider)?) {
        let now = clock.now()
        let duration = max(0, now.timeIntervalSince(startedAt))
        var metadata: Logger.Metadata = [
            "delivery.id": "\(delivery.id)", "event.id": "\(delivery.eventId)",
            "channel": "\(delivery.channel.rawValue)",
            "notifier": "\(delivery.notifierId)", "attempt": "\(delivery.attempts + 1)",
        ]
        let key = DestinationGate.Key(notifier: delivery.notifierId, destination: delivery.destination)
        let label = provider?.destination(for: delivery.recipient).label ?? "?"
        let events = gate.withLock { $0.record(outcome, key: key, now: now) }
        for event in events {
            log(event, destination: label, notifier: delivery.notifierId)
            if case .paused(let until) = event {
                share(
                    DestinationPause(notifierId: delivery.notifierId, destination: delivery.destination, until: until)
                )
            }
        }
        let update: DeliveryUpdate
        switch outcome {
        case .delivered(let receipt):
            counters.delivered.add(1, ordering: .relaxed)
            counters.metrics.delivered(delivery.channel, secondsSinceIntake: now.timeIntervalSince(delivery.createdAt))
            let attempt = AttemptRecord(
                startedAt: startedAt,
                duration: duration,
                result: .delivered,
                detail: receipt ?? ""
            )
            update = .delivered(id: delivery.id, lease: delivery.heldLease, attempt: attempt, receipt: receipt)
            logger.debug("delivered", metadata: metadata)
        case .failed(let error):
            if let status = error.status { metadata["http.status"] = "\(status)" }
            metadata["reason"] = "\(error.reason.rawValue)"
            metadata["error"] = "\(error.detail)"
            let limits = provider?.notifier.retryLimits ?? RetryLimits.defaults(for: delivery.channel)
            let decision = configuration.retryPolicy.decide(
                error: error,
                attempt: delivery.attempts + 1,
                createdAt: delivery.windowStart,
                limits: limits,
                now: now,
                random: random
            )
            switch decision {
            case .retry(let at):
                counters.retried.add(1, ordering: .relaxed)
                counters.metrics.retryScheduled(
                    delivery.channel,
                    reason: error.reason,
                    firstFailure: delivery.attempts == 0
                )
                let attempt = AttemptRecord(
                    startedAt: startedAt,
                    duration: duration,
                    result: .retry,
                    reason: error.reason,
                    status: error.status,
                    detail: error.detail
                )
                update = .retry(id: delivery.id, lease: delivery.heldLease, attempt: attempt, at: at)
                metadata["retry.at"] = "\(Timestamp.format(at))"
                if delivery.lastError == error.summary {
                    logger.debug("retry scheduled", metadata: metadata)
                } else {
                    logger.warning("retry scheduled", metadata: metadata)
                }
            case .deadLetter:
                counters.dead.add(1, ordering: .relaxed)
                counters.metrics.deadLettered(delivery.channel, reason: error.reason)
                let attempt = AttemptRecord(
                    startedAt: startedAt,
                    duration: duration,
                    result: error.isRetryable ? .retry : .permanent,
                    reason: error.reason,
                    status: error.status,
                    detail: error.detail
                )
                update = .dead(id: delivery.id, lease: delivery.heldLease, attempt: attempt)
                logger.error("dead letter", metadata: metadata)
                if error.suppressesAddress {
                    suppress(delivery, reason: String(error.detail.prefix(120)), now: now)
                }
            }
        }
        // The outcome is buffered and the delivery leaves the in-flight set in one step, under the lock the
        // shutdown drain takes to release what is still in flight: whoever sees the set without this delivery
        // also finds its outcome in the buffer, and an outcome arriving after the drain is dropped (the drain
        // released that lease; the delivery goes again after restart).
        let recorded = inflight.withLock { ids -> Bool in
            let wasInflight = ids.removeValue(forKey: delivery.id) != nil
            if wasInflight && abandoned.isSet { return false }
            enqueue(update)
            return true
        }
        guard recorded else { return }
        let free = configuration.concurrency - inflightCount
        if free >= max(1, min(configuration.batchSize, configuration.concurrency / 4)) {
            doorbell.ring()
        }
    }

    /// Records a Retry-After pause in the store, so that every worker sharing it pauses the destination too.
    private func share(_ pause: DestinationPause) {
        let store = self.store
        let logger = self.logger
        let now = clock.now()
        Task {
            do {
                try await store.pauseDestination(pause, now: now)
            } catch {
                logger.warning("recording a destination pause failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Records that the delivery's address must not be messaged again (the provider said so, e.g. Twilio 21610).
    private func suppress(_ delivery: Delivery, reason: String, now: Date) {
        let suppression = AddressSuppression(
            channel: delivery.channel,
            address: delivery.recipient.address,
            reason: reason,
            createdAt: now
        )
        let store = self.store
        let logger = self.logger
        Task {
            do {
                try await store.suppressAddress(suppression)
                logger.warning(
                    "address suppressed",
                    metadata: [
                        "channel": "\(delivery.channel.rawValue)", "recipient": "\(delivery.recipient.logLabel)",
                        "reason": "\(reason)",
                    ]
                )
            } catch {
                logger.error("recording an address suppression failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func log(_ event: GateEvent, destination: String, notifier: Int) {
        let metadata: Logger.Metadata = ["destination": "\(destination)", "notifier": "\(notifier)"]
        switch event {
        case .paused(let until):
            logger.warning(
                "destination paused",
                metadata: metadata.merging(["until": "\(Timestamp.format(until))"]) { $1 }
            )
        case .circuitOpened(let until):
            logger.warning(
                "circuit opened",
                metadata: metadata.merging(["until": "\(Timestamp.format(until))"]) { $1 }
            )
        case .broken:
            logger.error("destination broken: repeated configuration errors", metadata: metadata)
        case .recovered:
            logger.info("destination recovered", metadata: metadata)
        }
    }

    private func enqueue(_ update: DeliveryUpdate) {
        let count = updates.withLock { buffer in
            buffer.append(update)
            return buffer.count
        }
        // The first outcome wakes the idle recorder; a full batch makes it write at once.
        if count == 1 || count >= configuration.flushBatch { flushDoorbell.ring() }
    }

    private func runRecorder(until done: StopFlag) async {
        while true {
            let finished = done.isSet
            await flush()
            if finished { break }
            if updates.withLock({ $0.isEmpty }) {
                // Nothing to write: sleep until an outcome arrives (or shutdown rings).
                await flushDoorbell.wait(timeout: .seconds(1))
            }
            // Gather a batch for one flush interval, unless the batch fills first.
            await flushDoorbell.wait(timeout: configuration.flushInterval)
        }
    }

    /// Writes buffered outcomes; on failure keeps them for the next round.
    public func flush() async {
        let batch = updates.withLock { buffer -> [DeliveryUpdate] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        guard !batch.isEmpty else { return }
        do {
            let refused = try await store.apply(batch, now: clock.now())
            if !refused.isEmpty {
                // The fence held: these leases were re-claimed by another worker after they expired (this process
                // stalled, or its clock ran slow), so their outcomes are dropped rather than overwrite a newer claim.
                counters.lostLeases.add(refused.count, ordering: .relaxed)
                logger.warning(
                    "lease lost; outcomes refused",
                    metadata: ["count": "\(refused.count)", "delivery.id": "\(refused[0].id)"]
                )
            }
        } catch {
            logger.error(
                "recording outcomes failed; will retry",
                metadata: ["error": "\(error)", "count": "\(batch.count)"]
            )
            updates.withLock { $0.insert(contentsOf: batch, at: 0) }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits for transfers in flight up to the deadline, then releases the leases of those still running.
    private func drain() async {
        let deadline = ContinuousClock.now.advanced(by: configuration.shutdownDeadline)
        while inflightCount > 0 && ContinuousClock.now < deadline {
            await doorbell.wait(timeout: .milliseconds(20))
        }
        let remaining = inflight.withLock { ids -> [(id: Int64, lease: Lease)] in
            abandoned.set()
            return ids.map { ($0.key, $0.value) }
        }
        if !remaining.isEmpty {
            logger.warning(
                "shutdown deadline passed; releasing leases of transfers in flight",
                metadata: ["count": "\(remaining.count)"]
            )
            let now = clock.now()
            for (id, lease) in remaining { enqueue(.deferred(id: id, lease: lease, until: now)) }
        }
    }
}

extension Delivery {
    /// The lease of a claimed delivery. A delivery without one was not claimed by this stage: a token no claim
    /// carries makes the store refuse its outcome instead of applying it.
    fileprivate var heldLease: Lease { lease ?? Lease(token: 0, expiresAt: dueAt) }
}
