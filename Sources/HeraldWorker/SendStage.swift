import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
import Synchronization

/// Tunables of the send stage.
public struct SendConfiguration: Sendable {
    /// Transfers in flight at most.
    public var concurrency: Int
    /// Deliveries claimed per batch at most; up to one batch more than `concurrency` is claimed ahead.
    public var batchSize: Int
    /// How long a claimed delivery stays ours; a crash returns it to the queue after this.
    public var leaseDuration: TimeInterval
    /// The longest idle sleep; the stage wakes earlier for the next due delivery or when rung.
    public var idlePoll: Duration
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
        shutdownDeadline: Duration = .seconds(10),
        retryPolicy: RetryPolicy = RetryPolicy(),
        breakerThreshold: Int = 5,
        breakerCooldown: TimeInterval = 30
    ) {
        self.concurrency = max(1, concurrency)
        self.batchSize = max(1, batchSize)
        self.leaseDuration = leaseDuration
        self.idlePoll = idlePoll
        self.shutdownDeadline = shutdownDeadline
        self.retryPolicy = retryPolicy
        self.breakerThreshold = breakerThreshold
        self.breakerCooldown = breakerCooldown
    }
}

/// Claims due deliveries, paces them per destination, sends them through the transports with many in flight,
/// classifies each result and records outcomes in batches.
///
/// The shape, chosen so that nothing waits on a timer or hops through a task per delivery:
/// - one *pump* task owns the store: each round it writes the outcomes buffered so far and claims the next batch
///   in one transaction (`Store.applyAndClaim`), so claiming and recording share a commit and never queue
///   behind each other on the writer;
/// - claimed deliveries wait in a small ready queue (up to one batch ahead of the transfers in flight);
/// - a transport calls back on its own thread when a transfer ends (`HTTPTransport.start`): the callback
///   classifies the result, buffers the outcome, and starts the next ready delivery at once, without waiting
///   for the pump; only the first outcome of an empty buffer rings the pump.
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
    /// Rung when deliveries may be due (fan-out stored some, another process wrote) and by the first outcome
    /// buffered while the pump is idle.
    public let doorbell: Doorbell
    private let gate: Mutex<DestinationGate>
    /// When the pauses shared through the store were last read.
    private let pausesReadAt = Mutex<Date>(.distantPast)
    private let flow = Mutex(Flow())
    /// Whether the store paces destinations for every instance sharing it (`Store.shareRateLimits`): then the gate
    /// keeps no bucket of its own.
    private let storePaces: Atomic<Bool>

    /// What is claimed, in flight and waiting to be recorded; one lock, so a delivery is always in exactly one
    /// of: the ready queue, the in-flight set, the outcome buffer (or written).
    private struct Flow {
        /// Claimed and not started yet, last element first.
        var ready: [Delivery] = []
        /// Deliveries being sent, with the lease each was claimed under.
        var inflight: [Int64: Lease] = [:]
        var updates: [DeliveryUpdate] = []
        /// Shutdown: no ready delivery starts any more.
        var draining = false
        /// Shutdown deadline passed: outcomes of transfers still running are dropped (their leases were released).
        var abandoned = false
    }

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
        self.storePaces = Atomic(store.shareRateLimits(Self.rateLimits(of: providers)))
    }

    /// The limited notifiers' rate limits, by notifier id.
    private static func rateLimits(of providers: ProviderSet) -> [Int: RateLimit] {
        var limits: [Int: RateLimit] = [:]
        for provider in providers.all where !provider.notifier.rateLimit.isUnlimited {
            limits[provider.notifier.id] = provider.notifier.rateLimit
        }
        return limits
    }

    /// Replaces the notifiers (configuration reload); deliveries in flight finish with the old ones.
    public func replaceProviders(_ providers: ProviderSet) {
        self.providers.withLock { $0 = providers }
        storePaces.store(store.shareRateLimits(Self.rateLimits(of: providers)), ordering: .relaxed)
    }

    /// The providers deliveries go out through now (the last reload's).
    public var currentProviders: ProviderSet { providers.withLock { $0 } }

    /// Destinations that keep failing with configuration errors, as (notifier id, redacted label).
    public var brokenDestinations: [(notifier: Int, label: String)] {
        gate.withLock { $0.brokenDestinations }
    }

    /// Every destination held back now (paused, circuit open, broken), for `GET /notifiers`.
    public func destinationHealth() -> [DestinationHealth] {
        let now = clock.now()
        return gate.withLock { $0.health(now: now) }
    }

    /// How many destinations are paused by `Retry-After`, have an open circuit, or are broken, now.
    public func destinationCensus() -> DestinationCensus {
        let now = clock.now()
        return gate.withLock { $0.census(now: now) }
    }

    /// Deliveries claimed and not finished yet: transfers in flight plus those waiting in the ready queue.
    public var inflightCount: Int { flow.withLock { $0.inflight.count + $0.ready.count } }

    /// Below this many free places the pump does not claim (it would claim tiny batches).
    private var claimThreshold: Int { max(1, min(configuration.batchSize, configuration.concurrency / 4)) }

    public func run() async throws {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await pump(stopping: stopping)
        } onGracefulShutdown: {
            stopping.set()
            self.doorbell.ring()
        }
        await drain()
        logger.debug("send stage stopped")
    }

    /// Records outcomes and claims work, one transaction per round, until shutdown.
    private func pump(stopping: StopFlag) async {
        var lastCompaction = clock.now()
        while !stopping.isSet && !Task.isCancelled {
            let (batch, room) = flow.withLock { flow -> ([DeliveryUpdate], Int) in
                defer { flow.updates.removeAll(keepingCapacity: true) }
                // Up to one batch claimed ahead of the transfers in flight.
                let room = configuration.concurrency + configuration.batchSize - flow.inflight.count - flow.ready.count
                return (flow.updates, room)
            }
            let limit = room >= claimThreshold ? min(room, configuration.batchSize) : 0
            var claimed: [Delivery] = []
            if !batch.isEmpty || limit > 0 {
                // Pauses other workers shared through the store apply to what is claimed now (read at most once a
                // second).
                if limit > 0 { await refreshSharedPauses() }
                let now = clock.now()
                do {
                    let round = try await store.applyAndClaim(
                        batch,
                        claimLimit: limit,
                        now: now,
                        leaseUntil: now.addingTimeInterval(configuration.leaseDuration)
                    )
                    lost(round.refused)
                    claimed = round.claimed
                } catch {
                    flow.withLock { $0.updates.insert(contentsOf: batch, at: 0) }
                    logger.error(
                        "recording outcomes and claiming deliveries failed; will retry",
                        metadata: ["error": "\(error)", "outcomes": "\(batch.count)"]
                    )
                    try? await Task.sleep(for: .milliseconds(250))
                    continue
                }
                if !claimed.isEmpty {
                    flow.withLock { $0.ready.insert(contentsOf: claimed.reversed(), at: 0) }
                    startReady()
                }
            }
            let now = clock.now()
            if now.timeIntervalSince(lastCompaction) > 10 {
                gate.withLock { $0.compact(now: now) }
                lastCompaction = now
            }
            // A full batch may have more behind it; a short one drained what was due, so claiming again at once
            // would only cost a transaction: go on only for outcomes to record, else wait to be rung.
            if (limit > 0 && claimed.count == limit) || flow.withLock({ !$0.updates.isEmpty }) { continue }
            // Nothing to write and nothing due: sleep until the next delivery comes due (a retry, a deferred
            // turn), or until rung by fan-out, the first outcome, or a write by another process.
            var timeout = configuration.idlePoll
            if limit > 0, let due = try? await store.nextDeliveryDue() {
                let milliseconds = Int64((due.timeIntervalSince(clock.now()) * 1000).rounded(.up))
                timeout = min(timeout, .milliseconds(max(1, milliseconds)))
            }
            await doorbell.wait(timeout: timeout)
        }
    }

    /// Claims one batch and starts it; returns whether anything was claimed. (The pump claims on its own; this
    /// is the step tests drive by hand.)
    @discardableResult
    public func claimAndDispatch(limit: Int) async throws -> Bool {
        await refreshSharedPauses()
        let now = clock.now()
        let claimed = try await store.claimDeliveries(
            limit: limit,
            now: now,
            leaseUntil: now.addingTimeInterval(configuration.leaseDuration)
        )
        flow.withLock { $0.ready.insert(contentsOf: claimed.reversed(), at: 0) }
        startReady()
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

    /// No bucket: what the store paced already holds its token.
    private static let unpaced = RateLimit(perSecond: 0, burst: 0)

    /// Starts ready deliveries while there is room in flight.
    private func startReady() {
        while true {
            let next = flow.withLock { flow -> Delivery? in
                guard !flow.draining, flow.inflight.count < configuration.concurrency,
                    let delivery = flow.ready.popLast()
                else { return nil }
                flow.inflight[delivery.id] = delivery.heldLease
                return delivery
            }
            guard let next else { return }
            dispatch(next)
        }
    }

    /// Admits, renders the request for and starts one delivery that is already counted in flight; what cannot
    /// start is recorded at once (deferred or failed).
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
        if let expiresAt = delivery.expiresAt, now >= expiresAt {
            // SPEC §11.6: a passcode that did not go out before its expiry is dropped, never sent late.
            let error = DeliveryError.permanent(
                .expired,
                "not sent: expired at \(Timestamp.format(expiresAt)) before it could be delivered"
            )
            finish(delivery, outcome: .failed(error), startedAt: now, provider: provider)
            return
        }
        let key = DestinationGate.Key(notifier: delivery.notifierId, destination: delivery.destination)
        let admission = gate.withLock {
            $0.admit(
                id: delivery.id,
                key: key,
                label: provider.destination(for: delivery.recipient).label,
                limit: storePaces.load(ordering: .relaxed) ? Self.unpaced : provider.notifier.rateLimit,
                now: now
            )
        }
        if case .wait(let until, let because) = admission {
            // A pause from Retry-After gets up to 1 s of jitter so the waiters do not return all at once.
            let due = because == .paused ? until.addingTimeInterval(random()) : until
            counters.deferred.add(1, ordering: .relaxed)
            record(.deferred(id: delivery.id, lease: delivery.heldLease, until: due), leaving: delivery.id)
            return
        }
        let request: OutboundRequest
        do {
            request = try provider.request(for: delivery)
        } catch {
            finish(delivery, outcome: .failed(error), startedAt: now, provider: provider)
            return
        }
        counters.attempts.add(1, ordering: .relaxed)
        counters.metrics.attemptStarted(delivery.channel)
        switch request {
        case .http(var httpRequest):
            httpRequest.headers.append(HTTPHeader("User-Agent", HeraldVersion.userAgent))
            httpRequest.headers.append(HTTPHeader("X-Herald-Event-Id", delivery.eventId))
            httpRequest.headers.append(HTTPHeader("X-Herald-Delivery-Id", String(delivery.id)))
            http.start(httpRequest) { result in
                self.completed(delivery, result: .http(result), startedAt: now, provider: provider)
            }
        case .mail(let message):
            guard let mail else {
                let failure = TransportFailure(
                    kind: .configuration,
                    code: 0,
                    requestSent: false,
                    message: "no mail transport configured"
                )
                completed(delivery, result: .mail(.failure(failure)), startedAt: now, provider: provider)
                return
            }
            mail.start(message) { result in
                self.completed(delivery, result: .mail(result), startedAt: now, provider: provider)
            }
        }
    }

    /// A transfer ended (on the transport's thread): classify, record, and start the next ready delivery.
    private func completed(_ delivery: Delivery, result: AttemptResult, startedAt: Date, provider: any Provider) {
        let outcome = provider.classify(result, for: delivery, now: clock.now())
        finish(delivery, outcome: outcome, startedAt: startedAt, provider: provider)
        startReady()
    }

    private func finish(_ delivery: Delivery, outcome: DeliveryOutcome, startedAt: Date, provider: (any Provider)?) {
        let now = clock.now()
        let duration = max(0, now.timeIntervalSince(startedAt))
        let key = DestinationGate.Key(notifier: delivery.notifierId, destination: delivery.destination)
        let events = gate.withLock { $0.record(outcome, key: key, now: now) }
        if !events.isEmpty {
            let label = provider?.destination(for: delivery.recipient).label ?? "?"
            for event in events {
                log(event, destination: label, notifier: delivery.notifierId)
                if case .paused(let until) = event {
                    share(
                        DestinationPause(
                            notifierId: delivery.notifierId,
                            destination: delivery.destination,
                            until: until
                        )
                    )
                }
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
            if logger.logLevel <= .debug {
                logger.debug("delivered", metadata: Self.metadata(delivery))
            }
        case .failed(let failure):
            // A passcode's error never carries its code, even when the provider echoed the request.
            let error = delivery.expiresAt == nil ? failure : failure.withoutPasscodeDigits(of: delivery.payload)
            var metadata = Self.metadata(delivery)
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
        record(update, leaving: delivery.id)
    }

    private static func metadata(_ delivery: Delivery) -> Logger.Metadata {
        [
            "delivery.id": "\(delivery.id)", "event.id": "\(delivery.eventId)",
            "channel": "\(delivery.channel.rawValue)",
            "notifier": "\(delivery.notifierId)", "attempt": "\(delivery.attempts + 1)",
        ]
    }

    /// Buffers an outcome and takes the delivery out of the in-flight set in one step, under the lock the
    /// shutdown drain takes to release what is still in flight: whoever sees the set without this delivery
    /// also finds its outcome in the buffer, and an outcome arriving after the drain released its lease is
    /// dropped (the delivery goes again after restart). The first outcome of an empty buffer rings the pump.
    private func record(_ update: DeliveryUpdate, leaving id: Int64) {
        let ring = flow.withLock { flow -> Bool in
            let wasInflight = flow.inflight.removeValue(forKey: id) != nil
            if wasInflight && flow.abandoned { return false }
            flow.updates.append(update)
            return flow.updates.count == 1
        }
        if ring { doorbell.ring() }
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

    /// Writes buffered outcomes; on failure keeps them for the next round.
    public func flush() async {
        let batch = flow.withLock { flow -> [DeliveryUpdate] in
            defer { flow.updates.removeAll(keepingCapacity: true) }
            return flow.updates
        }
        guard !batch.isEmpty else { return }
        do {
            lost(try await store.apply(batch, now: clock.now()))
        } catch {
            logger.error(
                "recording outcomes failed; will retry",
                metadata: ["error": "\(error)", "count": "\(batch.count)"]
            )
            flow.withLock { $0.updates.insert(contentsOf: batch, at: 0) }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Counts and logs outcomes the store refused: the fence held, these leases were re-claimed by another worker
    /// after they expired (this process stalled, or its clock ran slow), so their outcomes are dropped rather than
    /// overwrite a newer claim.
    private func lost(_ refused: [DeliveryUpdate]) {
        guard !refused.isEmpty else { return }
        counters.lostLeases.add(refused.count, ordering: .relaxed)
        logger.warning(
            "lease lost; outcomes refused",
            metadata: ["count": "\(refused.count)", "delivery.id": "\(refused[0].id)"]
        )
    }

    /// Shutdown: starts nothing more, records outcomes while transfers in flight finish (up to the deadline),
    /// then releases the leases of what is still running or never started, and writes the last outcomes.
    private func drain() async {
        let deadline = ContinuousClock.now.advanced(by: configuration.shutdownDeadline)
        flow.withLock { $0.draining = true }
        while ContinuousClock.now < deadline {
            await flush()
            if flow.withLock({ $0.inflight.isEmpty }) { break }
            await doorbell.wait(timeout: .milliseconds(20))
        }
        let (running, unstarted) = flow.withLock { flow -> ([(Int64, Lease)], [(Int64, Lease)]) in
            flow.abandoned = true
            defer { flow.ready.removeAll() }
            return (flow.inflight.map { ($0.key, $0.value) }, flow.ready.map { ($0.id, $0.heldLease) })
        }
        if !running.isEmpty {
            logger.warning(
                "shutdown deadline passed; releasing leases of transfers in flight",
                metadata: ["count": "\(running.count)"]
            )
        }
        let now = clock.now()
        flow.withLock { flow in
            for (id, lease) in running + unstarted { flow.updates.append(.deferred(id: id, lease: lease, until: now)) }
        }
        await flush()
    }
}

extension Delivery {
    /// The lease of a claimed delivery. A delivery without one was not claimed by this stage: a token no claim
    /// carries makes the store refuse its outcome instead of applying it.
    fileprivate var heldLease: Lease { lease ?? Lease(token: 0, expiresAt: dueAt) }
}
