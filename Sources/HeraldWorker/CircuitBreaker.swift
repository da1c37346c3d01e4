import Foundation

/// A per-destination circuit breaker: after `threshold` consecutive retryable failures it opens for `cooldown`;
/// then one probe is let through (half-open), whose success closes it and whose failure opens it again.
struct CircuitBreaker: Sendable {
    enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: Date)
        case halfOpen(probeSentAt: Date)
    }

    let threshold: Int
    let cooldown: TimeInterval
    private(set) var state: State = .closed(failures: 0)

    init(threshold: Int, cooldown: TimeInterval) {
        self.threshold = threshold
        self.cooldown = cooldown
    }

    /// Nil when a request may go now, else when to ask again.
    mutating func admit(now: Date) -> Date? {
        switch state {
        case .closed: return nil
        case .open(let until):
            if now < until { return until }
            state = .halfOpen(probeSentAt: now)
            return nil
        case .halfOpen(let sentAt):
            // One probe at a time; a probe that never reported back (lost) frees the slot after the cooldown.
            if now.timeIntervalSince(sentAt) > cooldown {
                state = .halfOpen(probeSentAt: now)
                return nil
            }
            return now.addingTimeInterval(min(1, cooldown))
        }
    }

    /// Records a success.
    mutating func recordSuccess() {
        state = .closed(failures: 0)
    }

    /// Records a retryable failure; returns true when this opened the breaker.
    mutating func recordFailure(now: Date) -> Bool {
        switch state {
        case .closed(let failures):
            if failures + 1 >= threshold {
                state = .open(until: now.addingTimeInterval(cooldown))
                return true
            }
            state = .closed(failures: failures + 1)
            return false
        case .halfOpen, .open:
            state = .open(until: now.addingTimeInterval(cooldown))
            return true
        }
    }

    /// Whether the breaker holds no state worth keeping.
    var isIdle: Bool { state == .closed(failures: 0) }
}
