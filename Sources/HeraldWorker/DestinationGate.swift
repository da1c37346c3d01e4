import Foundation
import HeraldCore

/// Decides, per destination, whether a delivery may be sent now: `Retry-After` pauses, the circuit breaker and
/// the token bucket. Pure state: the send stage owns one behind a lock and feeds it outcomes.
struct DestinationGate: Sendable {
    /// The verdict for one delivery.
    enum Admission: Equatable, Sendable {
        /// Send now.
        case go
        /// Not now: due again at the given time (not an attempt).
        case wait(until: Date, because: WaitReason)
    }

    enum WaitReason: String, Sendable {
        case rateLimit
        case paused
        case circuitOpen
    }

    struct Key: Hashable, Sendable {
        var notifier: Int
        var destination: String
    }

    private struct Entry: Sendable {
        var bucket: TokenBucket
        var breaker: CircuitBreaker
        var pausedUntil: Date?
        /// Deliveries holding a reserved token, with the time it becomes due.
        var reservations: [Int64: Date] = [:]
        var consecutiveConfigurationErrors = 0
        var broken = false
        var label: String
        /// The last failure, already redacted, for `GET /notifiers`.
        var lastError: String?
    }

    let breakerThreshold: Int
    let breakerCooldown: TimeInterval
    /// Consecutive permanent configuration failures after which a destination counts as broken.
    let brokenThreshold: Int
    private var entries: [Key: Entry] = [:]
    /// Pauses recorded in the store by any worker sharing it (another instance's Retry-After).
    private var sharedPauses: [Key: Date] = [:]

    init(breakerThreshold: Int = 5, breakerCooldown: TimeInterval = 30, brokenThreshold: Int = 3) {
        self.breakerThreshold = breakerThreshold
        self.breakerCooldown = breakerCooldown
        self.brokenThreshold = brokenThreshold
    }

    /// Asks to send delivery `id` to `key` now.
    mutating func admit(id: Int64, key: Key, label: String, limit: RateLimit, now: Date) -> Admission {
        var entry =
            entries[key]
            ?? Entry(
                bucket: TokenBucket(limit: limit, now: now),
                breaker: CircuitBreaker(threshold: breakerThreshold, cooldown: breakerCooldown),
                label: label
            )
        defer { entries[key] = entry }
        if let shared = sharedPauses[key], now < shared {
            return .wait(until: shared, because: .paused)
        }
        if let paused = entry.pausedUntil {
            if now < paused { return .wait(until: paused, because: .paused) }
            entry.pausedUntil = nil
        }
        if let reopen = entry.breaker.admit(now: now) {
            return .wait(until: reopen, because: .circuitOpen)
        }
        if let reserved = entry.reservations[id] {
            // Allow a little early return: the store's clock and ours agree only to the millisecond.
            if reserved.timeIntervalSince(now) <= 0.002 {
                entry.reservations[id] = nil
                return .go
            }
            return .wait(until: reserved, because: .rateLimit)
        }
        let slot = entry.bucket.reserve(now: now)
        if slot <= now { return .go }
        entry.reservations[id] = slot
        return .wait(until: slot, because: .rateLimit)
    }

    /// Feeds back the outcome of an attempt. Returns what changed, for logging.
    mutating func record(_ outcome: DeliveryOutcome, key: Key, now: Date) -> [GateEvent] {
        guard var entry = entries[key] else { return [] }
        defer { entries[key] = entry }
        var events: [GateEvent] = []
        switch outcome {
        case .delivered:
            entry.breaker.recordSuccess()
            entry.consecutiveConfigurationErrors = 0
            entry.lastError = nil
            if entry.broken {
                entry.broken = false
                events.append(.recovered)
            }
        case .failed(let error):
            entry.lastError = Self.summary(of: error)
            if let notBefore = error.notBefore, error.reason == .rateLimited || notBefore > now {
                // Retry-After pauses the whole destination, not only this message.
                if entry.pausedUntil.map({ $0 < notBefore }) ?? true {
                    entry.pausedUntil = notBefore
                    events.append(.paused(until: notBefore))
                }
            }
            switch error.disposition {
            case .retry:
                if [.serverError, .connection, .timeout].contains(error.reason),
                    entry.breaker.recordFailure(now: now)
                {
                    events.append(.circuitOpened(until: now.addingTimeInterval(breakerCooldown)))
                }
            case .permanent:
                if error.reason == .configuration || error.reason == .authentication {
                    entry.consecutiveConfigurationErrors += 1
                    if entry.consecutiveConfigurationErrors >= brokenThreshold, !entry.broken {
                        entry.broken = true
                        events.append(.broken)
                    }
                }
            }
        }
        return events
    }

    /// Replaces the pauses learnt from the store.
    mutating func adoptSharedPauses(_ pauses: [Key: Date]) {
        sharedPauses = pauses
    }

    /// Destinations currently considered broken, as (notifier, redacted label).
    var brokenDestinations: [(notifier: Int, label: String)] {
        entries.filter { $0.value.broken }.map { ($0.key.notifier, $0.value.label) }.sorted { $0.label < $1.label }
    }

    /// Every destination held back at `now`, with its worst state (broken, then circuit open, then paused).
    /// A pause another instance recorded counts too, even for a destination this instance never sent to.
    func health(now: Date) -> [DestinationHealth] {
        var result: [DestinationHealth] = []
        for (key, entry) in entries {
            let pausedUntil = [entry.pausedUntil, sharedPauses[key]].compactMap { $0 }.filter { $0 > now }.max()
            let state: DestinationHealth.State
            var until: Date?
            if entry.broken {
                state = .broken
            } else if case .open(let reopen) = entry.breaker.state, reopen > now {
                state = .circuitOpen
                until = reopen
            } else if let pausedUntil {
                state = .paused
                until = pausedUntil
            } else {
                continue
            }
            result.append(
                DestinationHealth(
                    notifier: key.notifier,
                    label: entry.label,
                    state: state,
                    until: until,
                    lastError: entry.lastError
                )
            )
        }
        for (key, until) in sharedPauses where entries[key] == nil && until > now {
            result.append(
                DestinationHealth(
                    notifier: key.notifier,
                    label: "(paused by another instance)",
                    state: .paused,
                    until: until
                )
            )
        }
        return result.sorted { ($0.notifier, $0.label) < ($1.notifier, $1.label) }
    }

    /// One line for the last error of a destination: reason, status, redacted detail.
    static func summary(of error: DeliveryError) -> String {
        var text = error.reason.rawValue
        if let status = error.status { text += " \(status)" }
        if !error.detail.isEmpty { text += ": " + error.detail.prefix(200) }
        return text
    }

    /// Counts destinations by what holds them back at `now` (one destination can be paused and broken).
    func census(now: Date) -> DestinationCensus {
        var census = DestinationCensus()
        for entry in entries.values {
            if let paused = entry.pausedUntil, paused > now { census.paused += 1 }
            if case .open(let until) = entry.breaker.state, until > now { census.open += 1 }
            if entry.broken { census.broken += 1 }
        }
        return census
    }

    /// Drops state that no longer matters (full buckets, closed breakers, past pauses, stale reservations).
    mutating func compact(now: Date) {
        entries = entries.filter { _, entry in
            entry.broken || !entry.breaker.isIdle || (entry.pausedUntil.map { $0 > now } ?? false)
                || entry.reservations.values.contains { $0.timeIntervalSince(now) > -300 }
                || !entry.bucket.isIdle(now: now)
        }
    }
}

/// Something worth logging that happened to a destination.
enum GateEvent: Equatable, Sendable {
    case paused(until: Date)
    case circuitOpened(until: Date)
    case broken
    case recovered
}

/// One destination held back, as `GET /notifiers` reports it.
public struct DestinationHealth: Sendable, Hashable {
    /// In rising order of severity.
    public enum State: Int, Sendable, Comparable {
        case paused
        case circuitOpen
        case broken

        public static func < (lhs: State, rhs: State) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The name in the API (`paused`, `circuitOpen`, `broken`).
        public var name: String {
            switch self {
            case .paused: "paused"
            case .circuitOpen: "circuitOpen"
            case .broken: "broken"
            }
        }
    }

    public var notifier: Int
    /// The destination, redacted.
    public var label: String
    public var state: State
    /// Until when a paused destination or an open circuit waits.
    public var until: Date?
    /// The last failure, redacted.
    public var lastError: String?

    public init(notifier: Int, label: String, state: State, until: Date? = nil, lastError: String? = nil) {
        self.notifier = notifier
        self.label = label
        self.state = state
        self.until = until
        self.lastError = lastError
    }
}

/// Destinations held back, by reason (`herald_destinations{state}`).
public struct DestinationCensus: Sendable, Hashable {
    /// Paused by a provider's `Retry-After`.
    public var paused = 0
    /// Circuit open after repeated failures.
    public var open = 0
    /// Repeated configuration or authentication errors.
    public var broken = 0

    public init(paused: Int = 0, open: Int = 0, broken: Int = 0) {
        self.paused = paused
        self.open = open
        self.broken = broken
    }
}
